// The 57 MMLU subjects and the category groups lm-eval 0.4.3 aggregates them in.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dartquant::tasks {

/// "stem", "other", "social_sciences" or "humanities" (lm-eval's mmlu_<category> groups),
/// in the order lm-eval's mmlu group lists them.
const std::vector<std::string>& mmlu_categories();

/// The category of a subject such as "abstract_algebra"; nullopt for an unknown subject.
std::optional<std::string> mmlu_category(const std::string& subject);

}  // namespace dartquant::tasks
