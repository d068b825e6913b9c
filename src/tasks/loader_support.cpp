#include "tasks/loader_support.h"

#include "dartquant/core/error.h"
#include "dartquant/tasks/text.h"

namespace dartquant::tasks::detail {

std::filesystem::path task_file(const LoadOptions& options, const std::string& task, const std::string& file) {
  return options.root / "tasks" / task / file;
}

void keep_first(std::vector<Document>& documents, const std::optional<int64_t>& limit) {
  if (limit && static_cast<size_t>(*limit) < documents.size()) {
    documents.resize(static_cast<size_t>(*limit));
  }
}

std::string row_id(const JsonRow& row, const std::string& key) {
  if (row.has(key)) {
    const auto& value = row.value.at(key);
    if (value.is_string()) {
      return value.get<std::string>();
    }
    if (value.is_number_integer()) {
      return std::to_string(value.get<int64_t>());
    }
  }
  return str(row.file.filename().string(), ":", row.line);
}

int64_t integer_label(const JsonRow& row, const nlohmann::json& value, const std::string& key, int64_t first,
                      int64_t last) {
  if (value.is_number_integer()) {
    int64_t label = value.get<int64_t>();
    if (label < first || label > last) {
      row.fail(str("\"", key, "\" ", label, " is out of range [", first, ", ", last, "]"));
    }
    return label;
  }
  if (value.is_string()) {
    return parse_label(python_strip(value.get<std::string>()), first, last, row.file, row.line);
  }
  row.fail(str("\"", key, "\" must be an integer or a string of digits, got ", value.type_name()));
}

std::vector<std::string> string_list(const JsonRow& row, const nlohmann::json& value, const std::string& what) {
  if (!value.is_array() || value.empty()) {
    row.fail(str(what, " must be a non-empty array of strings"));
  }
  std::vector<std::string> items;
  for (const auto& item : value) {
    if (!item.is_string()) {
      row.fail(str(what, " must contain only strings, found ", item.type_name()));
    }
    items.push_back(item.get<std::string>());
  }
  return items;
}

LabeledChoices labeled_choices(const JsonRow& row, const nlohmann::json& value) {
  LabeledChoices choices;
  if (value.is_object()) {
    if (!value.contains("text") || !value.contains("label")) {
      row.fail("\"choices\" must have \"text\" and \"label\" arrays");
    }
    choices.texts = string_list(row, value.at("text"), "choices.text");
    choices.labels = string_list(row, value.at("label"), "choices.label");
    if (choices.texts.size() != choices.labels.size()) {
      row.fail(str("choices.text has ", choices.texts.size(), " entries but choices.label has ",
                   choices.labels.size()));
    }
    return choices;
  }
  if (!value.is_array() || value.empty()) {
    row.fail("\"choices\" must be a non-empty array of {\"text\", \"label\"} objects");
  }
  for (const auto& choice : value) {
    if (!choice.is_object() || !choice.contains("text") || !choice.contains("label") || !choice.at("text").is_string() ||
        !choice.at("label").is_string()) {
      row.fail("every choice must be an object with string \"text\" and \"label\"");
    }
    choices.texts.push_back(choice.at("text").get<std::string>());
    choices.labels.push_back(choice.at("label").get<std::string>());
  }
  return choices;
}

Document shared_context_document(int64_t index, std::string id, const std::string& context,
                                 const std::vector<std::string>& choices, int64_t gold) {
  Document document;
  document.index = index;
  document.id = std::move(id);
  document.gold = gold;
  document.choices = choices;
  for (const auto& choice : choices) {
    document.requests.push_back({context, " " + choice});
  }
  return document;
}

void set_format(Task& task, const std::string& format, const JsonRow& row) {
  if (task.format.empty()) {
    task.format = format;
  } else if (task.format != format) {
    row.fail(str("row schema is ", format, " but earlier rows of this file are ", task.format,
                 "; a file must use one schema"));
  }
}

}  // namespace dartquant::tasks::detail
