#include "dartquant/tasks/mmlu_subjects.h"

#include <map>

namespace dartquant::tasks {

const std::vector<std::string>& mmlu_categories() {
  static const std::vector<std::string> categories = {"stem", "other", "social_sciences", "humanities"};
  return categories;
}

std::optional<std::string> mmlu_category(const std::string& subject) {
  // The "group" of each mmlu/default/mmlu_<subject>.yaml in lm-eval 0.4.3.
  static const std::map<std::string, std::string> categories = {
      {"abstract_algebra", "stem"},
      {"anatomy", "stem"},
      {"astronomy", "stem"},
      {"college_biology", "stem"},
      {"college_chemistry", "stem"},
      {"college_computer_science", "stem"},
      {"college_mathematics", "stem"},
      {"college_physics", "stem"},
      {"computer_security", "stem"},
      {"conceptual_physics", "stem"},
      {"electrical_engineering", "stem"},
      {"elementary_mathematics", "stem"},
      {"high_school_biology", "stem"},
      {"high_school_chemistry", "stem"},
      {"high_school_computer_science", "stem"},
      {"high_school_mathematics", "stem"},
      {"high_school_physics", "stem"},
      {"high_school_statistics", "stem"},
      {"machine_learning", "stem"},
      {"business_ethics", "other"},
      {"clinical_knowledge", "other"},
      {"college_medicine", "other"},
      {"global_facts", "other"},
      {"human_aging", "other"},
      {"management", "other"},
      {"marketing", "other"},
      {"medical_genetics", "other"},
      {"miscellaneous", "other"},
      {"nutrition", "other"},
      {"professional_accounting", "other"},
      {"professional_medicine", "other"},
      {"virology", "other"},
      {"econometrics", "social_sciences"},
      {"high_school_geography", "social_sciences"},
      {"high_school_government_and_politics", "social_sciences"},
      {"high_school_macroeconomics", "social_sciences"},
      {"high_school_microeconomics", "social_sciences"},
      {"high_school_psychology", "social_sciences"},
      {"human_sexuality", "social_sciences"},
      {"professional_psychology", "social_sciences"},
      {"public_relations", "social_sciences"},
      {"security_studies", "social_sciences"},
      {"sociology", "social_sciences"},
      {"us_foreign_policy", "social_sciences"},
      {"formal_logic", "humanities"},
      {"high_school_european_history", "humanities"},
      {"high_school_us_history", "humanities"},
      {"high_school_world_history", "humanities"},
      {"international_law", "humanities"},
      {"jurisprudence", "humanities"},
      {"logical_fallacies", "humanities"},
      {"moral_disputes", "humanities"},
      {"moral_scenarios", "humanities"},
      {"philosophy", "humanities"},
      {"prehistory", "humanities"},
      {"professional_law", "humanities"},
      {"world_religions", "humanities"},
  };
  auto found = categories.find(subject);
  if (found == categories.end()) {
    return std::nullopt;
  }
  return found->second;
}

}  // namespace dartquant::tasks
