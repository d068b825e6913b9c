#include "dartquant/io/checkpoint.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <set>
#include <sstream>

#include "dartquant/core/error.h"
#include "dartquant/core/strings.h"
#include "strict_json.h"

namespace dartquant::io {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using detail::quote_text;

constexpr const char* kSingleFileName = "model.safetensors";
constexpr const char* kIndexFileName = "model.safetensors.index.json";
constexpr const char* kIndexSuffix = ".index.json";

// An index nests two levels (the object, then "weight_map" and "metadata"). The margin allows
// structured metadata values, which are kept as JSON text.
constexpr int kMaxIndexDepth = 8;

std::string read_index(const fs::path& index) {
  std::error_code error;
  const auto size = fs::file_size(index, error);
  DQ_CHECK(!error, index.string(), ": cannot read the index: ", error.message());
  DQ_CHECK(size <= kMaxHeaderBytes, index.string(), ": index is ", size, " bytes, more than the limit of ",
           kMaxHeaderBytes, " bytes");

  std::ifstream in(index, std::ios::binary);
  DQ_CHECK(in.good(), index.string(), ": cannot open the index for reading");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Rejects a shard name that could reach outside the index's folder. Symbolic links inside the
// folder are followed, since the Hugging Face cache links every file into a blob store.
fs::path checked_shard_path(const fs::path& index, const std::string& tensor, const std::string& shard) {
  const std::string prefix = str(index.string(), ": tensor ", quote_text(tensor), ": shard ", quote_text(shard));
  DQ_CHECK(!shard.empty(), index.string(), ": tensor ", quote_text(tensor), ": shard file name is empty");
  const fs::path relative(shard);
  DQ_CHECK(!relative.has_root_path(), prefix, " is an absolute path; shards must be inside the index's folder");
  for (const auto& part : relative) {
    DQ_CHECK(part != "..", prefix, " contains \"..\"; shards must be inside the index's folder");
  }
  return index.parent_path() / relative;
}

std::map<std::string, std::string> parse_index_metadata(const Json& index, const fs::path& path) {
  std::map<std::string, std::string> metadata;
  const auto it = index.find("metadata");
  if (it == index.end() || it->is_null()) {
    return metadata;
  }
  DQ_CHECK(it->is_object(), path.string(), ": \"metadata\" must be an object, got ", it->type_name());
  for (const auto& [key, value] : it->items()) {
    metadata.emplace(key, value.is_string() ? value.get<std::string>() : value.dump());
  }
  return metadata;
}

// Returns the weight map grouped by shard path: shard -> names of the tensors it provides.
std::map<fs::path, std::vector<std::string>> parse_weight_map(const Json& index, const fs::path& path) {
  const auto it = index.find("weight_map");
  DQ_CHECK(it != index.end(), path.string(), ": missing \"weight_map\"; a sharded index maps each tensor name to "
           "its shard file");
  DQ_CHECK(it->is_object(), path.string(), ": \"weight_map\" must be an object, got ", it->type_name());
  DQ_CHECK(!it->empty(), path.string(), ": \"weight_map\" lists no tensors");

  std::map<fs::path, std::vector<std::string>> shards;
  for (const auto& [tensor, shard] : it->items()) {
    DQ_CHECK(shard.is_string(), path.string(), ": tensor ", quote_text(tensor),
             ": shard file name must be a string, got ", shard.type_name());
    shards[checked_shard_path(path, tensor, shard.get<std::string>())].push_back(tensor);
  }
  return shards;
}

void warn_unlisted(const SafetensorsFile& shard, const std::set<std::string>& listed, const fs::path& index) {
  size_t count = 0;
  std::string first;
  for (const auto& info : shard.tensors()) {
    if (listed.count(info.name) == 0) {
      first = count == 0 ? info.name : first;
      ++count;
    }
  }
  if (count > 0) {
    spdlog::warn("{}: {} tensors (e.g. {}) are not listed for this shard in {} and are ignored", shard.path().string(),
                 count, quote_text(first), index.string());
  }
}

// Lists the files in `dir` that could be what the user meant, for the "no checkpoint" message.
std::vector<std::string> candidate_files(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (ends_with(name, ".safetensors") || ends_with(name, kIndexSuffix)) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Checkpoint Checkpoint::open(const fs::path& dir_or_file) {
  std::error_code error;
  const auto status = fs::status(dir_or_file, error);
  DQ_CHECK(fs::exists(status), "checkpoint not found: ", dir_or_file.string(), " does not exist");

  if (!fs::is_directory(status)) {
    const std::string name = dir_or_file.filename().string();
    return ends_with(name, kIndexSuffix) ? open_index(dir_or_file, dir_or_file) : open_single(dir_or_file, dir_or_file);
  }

  const fs::path single = dir_or_file / kSingleFileName;
  const fs::path index = dir_or_file / kIndexFileName;
  const bool has_single = fs::is_regular_file(single, error);
  const bool has_index = fs::is_regular_file(index, error);
  if (has_single && has_index) {
    spdlog::warn("{}: contains both {} and {}; using {} (pass the index path to use the shards)", dir_or_file.string(),
                 kSingleFileName, kIndexFileName, kSingleFileName);
  }
  if (has_single) {
    return open_single(dir_or_file, single);
  }
  if (has_index) {
    return open_index(dir_or_file, index);
  }

  const auto candidates = candidate_files(dir_or_file);
  std::string hint;
  for (const auto& name : candidates) {
    hint += (hint.empty() ? "; the folder contains " : ", ") + name;
  }
  if (!hint.empty()) {
    hint += " (pass one of them as the path)";
  }
  throw Error(str(dir_or_file.string(), ": no checkpoint found: looked for ", kSingleFileName, " and ", kIndexFileName,
                  hint));
}

Checkpoint Checkpoint::open_single(const fs::path& requested_path, const fs::path& file) {
  Checkpoint checkpoint;
  checkpoint.path_ = requested_path;
  auto opened = SafetensorsFile::open(file);
  for (const auto& info : opened->tensors()) {
    checkpoint.entries_.emplace(info.name, Entry{opened.get(), &info});
  }
  checkpoint.metadata_ = opened->metadata();
  checkpoint.files_.push_back(std::move(opened));
  return checkpoint;
}

Checkpoint Checkpoint::open_index(const fs::path& requested_path, const fs::path& index) {
  const Json json = detail::parse_strict_json(read_index(index), {index.string(), "index", "key", kMaxIndexDepth});
  DQ_CHECK(json.is_object(), index.string(), ": index must be a JSON object, got ", json.type_name());

  Checkpoint checkpoint;
  checkpoint.path_ = requested_path;
  checkpoint.metadata_ = parse_index_metadata(json, index);

  for (const auto& [shard_path, listed] : parse_weight_map(json, index)) {
    const std::string shard_name = shard_path.filename().string();
    DQ_CHECK(fs::is_regular_file(shard_path), index.string(), ": shard ", quote_text(shard_name), " (listed for ",
             listed.size(), " tensors, e.g. ", quote_text(listed.front()), ") not found at ", shard_path.string());
    auto shard = SafetensorsFile::open(shard_path);

    for (const auto& name : listed) {
      const TensorInfo* info = shard->find(name);
      DQ_CHECK(info != nullptr, index.string(), ": tensor ", quote_text(name), " is listed in shard ", quote_text(shard_name),
               ", but ", shard_path.string(), " does not contain it");
      checkpoint.entries_.emplace(name, Entry{shard.get(), info});
    }
    warn_unlisted(*shard, std::set<std::string>(listed.begin(), listed.end()), index);
    checkpoint.files_.push_back(std::move(shard));
  }
  return checkpoint;
}

bool Checkpoint::contains(const std::string& name) const { return entries_.count(name) > 0; }

const Checkpoint::Entry& Checkpoint::require(const std::string& name) const {
  const auto it = entries_.find(name);
  DQ_CHECK(it != entries_.end(), "tensor ", quote_text(name), " not found in checkpoint ", path_.string(), " (",
           entries_.size(), " tensors)");
  return it->second;
}

const TensorInfo& Checkpoint::info(const std::string& name) const { return *require(name).info; }

at::Tensor Checkpoint::load(const std::string& name) const { return require(name).file->load(name); }

at::Tensor Checkpoint::view(const std::string& name) const { return require(name).file->view(name); }

const SafetensorsFile& Checkpoint::file_of(const std::string& name) const { return *require(name).file; }

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> names;
  names.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) {
    names.push_back(name);
  }
  return names;
}

std::vector<fs::path> Checkpoint::files() const {
  std::vector<fs::path> paths;
  paths.reserve(files_.size());
  for (const auto& file : files_) {
    paths.push_back(file->path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace dartquant::io
