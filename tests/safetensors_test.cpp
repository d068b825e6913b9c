// Tests of the safetensors reader, writer and checkpoint loader, on the shared real checkpoints
// and on files crafted byte by byte in temporary folders.
#include <ATen/ATen.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "dartquant/core/error.h"
#include "dartquant/io/safetensors.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
namespace dqt = dartquant::testing;
using dartquant::Error;
using dartquant::io::Checkpoint;
using dartquant::io::DType;
using dartquant::io::SafetensorsFile;
using dartquant::io::TensorInfo;
using dartquant::io::WriteOptions;
using dartquant::io::write_safetensors;

using TensorList = std::vector<std::pair<std::string, at::Tensor>>;

const std::vector<DType> kAllDTypes = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                                       DType::I32, DType::I16, DType::I8,  DType::U8,   DType::BOOL};

// ---------------------------------------------------------------------------------------------
// Helpers

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

// The 8-byte little-endian length field of a safetensors file.
std::string length_field(uint64_t length) {
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &length, sizeof(length));
  return bytes;
}

// A file image: length field, header text as given (not padded), then `data`.
std::string file_image(const std::string& header, const std::string& data = "") {
  return length_field(header.size()) + header + data;
}

// Compares dtype, shape and every byte, so that NaN payloads and -0.0 count too.
bool bitwise_equal(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) {
    return false;
  }
  const auto ca = a.contiguous();
  const auto cb = b.contiguous();
  return ca.nbytes() == 0 || std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

// Sample data of each dtype with both signs, fractions and (for BOOL) both values.
at::Tensor sample_tensor(DType dtype, at::IntArrayRef shape) {
  const auto type = dartquant::io::to_scalar_type(dtype);
  if (dtype == DType::BOOL) {
    return at::randint(0, 2, shape, at::kLong).to(at::kBool);
  }
  if (dtype == DType::U8) {
    return at::randint(0, 256, shape, at::kLong).to(type);
  }
  if (at::isFloatingType(type)) {
    return (at::randn(shape, at::kDouble) * 100).to(type);
  }
  return at::randint(-100, 100, shape, at::kLong).to(type);
}

// Returns the message of the dartquant::Error thrown by `action`, or records a failure.
template <typename Action>
std::string error_message(Action&& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  } catch (const std::exception& error) {
    ADD_FAILURE() << "expected dartquant::Error, got another exception: " << error.what();
    return error.what();
  }
  ADD_FAILURE() << "expected dartquant::Error, nothing was thrown";
  return "";
}

std::vector<std::string> list_directory(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Routes spdlog's default logger into memory for the lifetime of the object.
class CapturedLog {
 public:
  CapturedLog()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64)),
        previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink_));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::string text() const {
    std::string all;
    for (const auto& line : sink_->last_formatted()) {
      all += line;
    }
    return all;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

// A fresh temporary folder per test, removed afterwards.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = dqt::make_temp_dir("dq-safetensors"); }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_bytes(const std::string& name, const std::string& bytes) const {
    const auto path = dir_ / name;
    dqt::write_file(path, bytes);
    return path;
  }

  fs::path dir_;
};

// ---------------------------------------------------------------------------------------------
// DType

TEST(SafetensorsDType, NamesParseBack) {
  for (const DType dtype : kAllDTypes) {
    const auto name = dartquant::io::dtype_name(dtype);
    SCOPED_TRACE(name);
    ASSERT_TRUE(dartquant::io::parse_dtype(name).has_value());
    EXPECT_EQ(*dartquant::io::parse_dtype(name), dtype);
  }
}

TEST(SafetensorsDType, SizesMatchATen) {
  for (const DType dtype : kAllDTypes) {
    SCOPED_TRACE(dartquant::io::dtype_name(dtype));
    const auto type = dartquant::io::to_scalar_type(dtype);
    EXPECT_EQ(dartquant::io::dtype_size(dtype), c10::elementSize(type));
    EXPECT_EQ(dartquant::io::from_scalar_type(type), dtype);
  }
}

TEST(SafetensorsDType, ParseRejectsOtherSpellings) {
  EXPECT_FALSE(dartquant::io::parse_dtype("f32").has_value());
  EXPECT_FALSE(dartquant::io::parse_dtype("U16").has_value());
  EXPECT_FALSE(dartquant::io::parse_dtype("F8_E4M3").has_value());
  EXPECT_FALSE(dartquant::io::parse_dtype("").has_value());
}

TEST(SafetensorsDType, ComplexIsRejected) {
  const auto message = error_message([] { dartquant::io::from_scalar_type(at::kComplexFloat); });
  EXPECT_NE(message.find("ComplexFloat"), std::string::npos) << message;
  EXPECT_NE(message.find("BF16"), std::string::npos) << message;
}

// ---------------------------------------------------------------------------------------------
// Real files

struct ExpectedTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};

void expect_tensor(const SafetensorsFile& file, const ExpectedTensor& expected) {
  SCOPED_TRACE(expected.name);
  const TensorInfo* info = file.find(expected.name);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->dtype, expected.dtype);
  EXPECT_EQ(info->shape, expected.shape);

  const auto tensor = file.load(expected.name);
  EXPECT_EQ(tensor.scalar_type(), dartquant::io::to_scalar_type(expected.dtype));
  EXPECT_EQ(tensor.sizes().vec(), expected.shape);
  EXPECT_TRUE(tensor.is_contiguous());
  EXPECT_TRUE(tensor.device().is_cpu());
}

// Checks the first values and the float64 sum against numbers decoded from the raw bytes
// independently of this reader (Python struct, on this data set).
void expect_values(const at::Tensor& tensor, const std::vector<double>& first, double sum) {
  const auto flat = tensor.to(at::kDouble).flatten();
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(flat[static_cast<int64_t>(i)].item<double>(), first[i]) << "element " << i;
  }
  EXPECT_NEAR(flat.sum().item<double>(), sum, 1e-6 * std::max(1.0, std::abs(sum)));
}

TEST(SafetensorsRealFiles, Stories260KIsF32) {
  const auto file = SafetensorsFile::open(dqt::model_dir("stories260K") / "model.safetensors");
  EXPECT_EQ(file->tensors().size(), 48u);  // 5 layers x 9 + embed_tokens, norm, lm_head
  EXPECT_EQ(file->metadata().at("format"), "pt");
  expect_tensor(*file, {"model.embed_tokens.weight", DType::F32, {512, 64}});
  expect_tensor(*file, {"model.layers.0.self_attn.k_proj.weight", DType::F32, {32, 64}});
  expect_tensor(*file, {"model.layers.4.mlp.down_proj.weight", DType::F32, {64, 172}});
  expect_tensor(*file, {"lm_head.weight", DType::F32, {512, 64}});
  expect_values(file->load("model.norm.weight"), {2.4583089351654053, 1.3673226833343506, 1.7504382133483887},
                115.95276230573654);
}

TEST(SafetensorsRealFiles, TinyLlamaIsF16) {
  const auto file = SafetensorsFile::open(dqt::model_dir("tiny-llama-5m") / "model.safetensors");
  EXPECT_EQ(file->tensors().size(), 75u);  // 8 layers x 9 + 3
  expect_tensor(*file, {"model.layers.7.mlp.gate_proj.weight", DType::F16, {688, 256}});
  expect_tensor(*file, {"model.norm.weight", DType::F16, {256}});
  expect_values(file->load("model.layers.0.self_attn.q_proj.weight"),
                {0.0258636474609375, 0.0369873046875, 0.053466796875}, 4.771940052509308);
}

TEST(SafetensorsRealFiles, TinyMixtralIsBF16) {
  const auto file = SafetensorsFile::open(dqt::model_dir("tiny-mixtral") / "model.safetensors");
  EXPECT_EQ(file->tensors().size(), 127u);  // 4 layers x (4 attention + 2 norms + router + 8 x 3) + 3
  expect_tensor(*file, {"model.layers.0.block_sparse_moe.experts.0.w1.weight", DType::BF16, {224, 128}});
  expect_tensor(*file, {"model.layers.3.block_sparse_moe.experts.7.w2.weight", DType::BF16, {128, 224}});
  expect_tensor(*file, {"model.layers.2.block_sparse_moe.gate.weight", DType::BF16, {8, 128}});
  expect_tensor(*file, {"model.layers.1.self_attn.k_proj.weight", DType::BF16, {64, 128}});
  expect_values(file->load("model.layers.0.block_sparse_moe.experts.0.w1.weight"),
                {0.003936767578125, 0.01422119140625, -0.000720977783203125}, -4.855892315506935);
}

TEST(SafetensorsRealFiles, TinyDeepseekMoeIsBF16) {
  const auto file = SafetensorsFile::open(dqt::model_dir("tiny-deepseek-moe") / "model.safetensors");
  EXPECT_EQ(file->tensors().size(), 186u);  // dense layer 9 + 3 MoE layers x 58 + 3
  expect_tensor(*file, {"model.layers.0.mlp.gate_proj.weight", DType::BF16, {1368, 128}});
  expect_tensor(*file, {"model.layers.1.mlp.experts.15.down_proj.weight", DType::BF16, {128, 88}});
  expect_tensor(*file, {"model.layers.3.mlp.gate.weight", DType::BF16, {16, 128}});
  expect_tensor(*file, {"model.layers.2.mlp.shared_experts.up_proj.weight", DType::BF16, {176, 128}});
  expect_values(file->load("model.embed_tokens.weight"), {-0.021240234375, -0.021728515625, -0.004730224609375},
                -7.05274622887373);
}

TEST(SafetensorsRealFiles, ReferenceLogits) {
  for (const std::string model : {"stories260K", "tiny-llama-5m", "tiny-mixtral", "tiny-deepseek-moe"}) {
    SCOPED_TRACE(model);
    const auto file = SafetensorsFile::open(dqt::model_dir(model) / "reference" / "logits.safetensors");
    EXPECT_EQ(file->metadata().count("sequences"), 1u);
    expect_tensor(*file, {"input_ids", DType::I64, {4, 64}});
    expect_tensor(*file, {"logits", DType::F32, {4, 64, 512}});
  }

  const auto mixtral = SafetensorsFile::open(dqt::model_dir("tiny-mixtral") / "reference" / "logits.safetensors");
  EXPECT_EQ(mixtral->tensors().size(), 6u);
  expect_tensor(*mixtral, {"router_probs", DType::F32, {4, 256, 8}});
  expect_tensor(*mixtral, {"routing_weights", DType::F32, {4, 256, 2}});
  expect_tensor(*mixtral, {"moe_layer_ids", DType::I64, {4}});
  expect_values(mixtral->load("expert_indices"), {6, 7, 3}, 7573);

  const auto deepseek =
      SafetensorsFile::open(dqt::model_dir("tiny-deepseek-moe") / "reference" / "logits.safetensors");
  expect_tensor(*deepseek, {"expert_indices", DType::I64, {3, 256, 4}});
  expect_tensor(*deepseek, {"router_probs", DType::F32, {3, 256, 16}});
}

TEST(SafetensorsRealFiles, EvalStreamIsI32) {
  const auto file = SafetensorsFile::open(dqt::data_dir() / "eval-streams-tok512" / "wiki.test.raw.tok512.safetensors");
  ASSERT_EQ(file->tensors().size(), 1u);
  expect_tensor(*file, {"input_ids", DType::I32, {815066}});
  expect_values(file->load("input_ids"), {1, 410, 13}, 295666016);
}

// Every tensor of every real file: entries in file order, tiling the data section, and load()
// agreeing with view() byte for byte.
TEST(SafetensorsRealFiles, EveryTensorLoadsAndMatchesView) {
  std::vector<fs::path> paths;
  for (const auto& folder : {"models", "eval-streams-tok512"}) {
    for (const auto& entry : fs::recursive_directory_iterator(dqt::data_dir() / folder)) {
      if (entry.path().extension() == ".safetensors") {
        paths.push_back(entry.path());
      }
    }
  }
  EXPECT_EQ(paths.size(), 12u);  // 4 models, 2 shards, 4 reference logits, 2 token streams

  for (const auto& path : paths) {
    SCOPED_TRACE(path.string());
    const auto file = SafetensorsFile::open(path);
    uint64_t expected_begin = 0;
    for (const auto& info : file->tensors()) {
      EXPECT_EQ(info.data_begin, expected_begin) << info.name;
      EXPECT_EQ(info.nbytes(), static_cast<uint64_t>(info.numel()) * dartquant::io::dtype_size(info.dtype));
      expected_begin = info.data_end;

      const auto loaded = file->load(info.name);
      const auto viewed = file->view(info.name);
      EXPECT_EQ(loaded.sizes().vec(), info.shape);
      EXPECT_TRUE(bitwise_equal(loaded, viewed)) << info.name;
    }
    EXPECT_EQ(file->data_offset() + expected_begin, fs::file_size(path));
  }
}

TEST(SafetensorsRealFiles, MissingTensorIsAnError) {
  const auto path = dqt::model_dir("stories260K") / "model.safetensors";
  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->find("model.layers.9.mlp.up_proj.weight"), nullptr);
  const auto message = error_message([&] { file->load("model.layers.9.mlp.up_proj.weight"); });
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("\"model.layers.9.mlp.up_proj.weight\""), std::string::npos) << message;
}

TEST(SafetensorsRealFiles, ViewOutlivesTheFileObject) {
  auto file = SafetensorsFile::open(dqt::model_dir("tiny-mixtral") / "model.safetensors");
  const auto loaded = file->load("lm_head.weight");
  const auto viewed = file->view("lm_head.weight");
  file.reset();
  EXPECT_TRUE(bitwise_equal(loaded, viewed));
}

// ---------------------------------------------------------------------------------------------
// Checkpoint

TEST(CheckpointTest, OpensEveryModelFolder) {
  const std::vector<std::pair<std::string, size_t>> folders = {{"stories260K", 48},
                                                               {"tiny-llama-5m", 75},
                                                               {"tiny-mixtral", 127},
                                                               {"tiny-mixtral-sharded", 127},
                                                               {"tiny-deepseek-moe", 186}};
  for (const auto& [folder, count] : folders) {
    SCOPED_TRACE(folder);
    const auto checkpoint = Checkpoint::open(dqt::model_dir(folder));
    EXPECT_EQ(checkpoint.size(), count);
    const auto names = checkpoint.names();
    EXPECT_EQ(names.size(), count);
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
    EXPECT_TRUE(checkpoint.contains("lm_head.weight"));
    EXPECT_FALSE(checkpoint.contains("lm_head.bias"));
  }
}

TEST(CheckpointTest, ShardedMatchesSingleFileBitwise) {
  const auto single = Checkpoint::open(dqt::model_dir("tiny-mixtral"));
  const auto sharded = Checkpoint::open(dqt::model_dir("tiny-mixtral-sharded"));
  ASSERT_EQ(single.names(), sharded.names());
  EXPECT_EQ(single.files().size(), 1u);
  ASSERT_EQ(sharded.files().size(), 2u);
  EXPECT_EQ(sharded.files()[0].filename(), "model-00001-of-00002.safetensors");
  EXPECT_EQ(sharded.files()[1].filename(), "model-00002-of-00002.safetensors");
  EXPECT_EQ(sharded.metadata().at("total_size"), "6170880");

  for (const auto& name : single.names()) {
    SCOPED_TRACE(name);
    EXPECT_EQ(single.info(name).dtype, sharded.info(name).dtype);
    EXPECT_EQ(single.info(name).shape, sharded.info(name).shape);
    EXPECT_TRUE(bitwise_equal(single.load(name), sharded.load(name)));
  }
}

TEST(CheckpointTest, OpensFileAndIndexPaths) {
  const auto file = Checkpoint::open(dqt::model_dir("tiny-llama-5m") / "model.safetensors");
  EXPECT_EQ(file.size(), 75u);
  EXPECT_EQ(file.metadata().at("format"), "pt");

  const auto index = Checkpoint::open(dqt::model_dir("tiny-mixtral-sharded") / "model.safetensors.index.json");
  EXPECT_EQ(index.size(), 127u);
  EXPECT_EQ(index.file_of("lm_head.weight").path().filename(), "model-00002-of-00002.safetensors");
}

TEST(CheckpointTest, InfoNamesTensorAndCheckpoint) {
  const auto dir = dqt::model_dir("tiny-mixtral-sharded");
  const auto checkpoint = Checkpoint::open(dir);
  const auto message = error_message([&] { checkpoint.info("model.layers.4.mlp.weight"); });
  EXPECT_NE(message.find("\"model.layers.4.mlp.weight\""), std::string::npos) << message;
  EXPECT_NE(message.find(dir.string()), std::string::npos) << message;
  EXPECT_THROW(checkpoint.load("model.layers.4.mlp.weight"), Error);
}

TEST(CheckpointTest, CopiesShareTheFiles) {
  auto original = std::make_unique<Checkpoint>(Checkpoint::open(dqt::model_dir("tiny-mixtral-sharded")));
  const Checkpoint copy = *original;
  const auto expected = original->load("model.norm.weight");
  original.reset();
  EXPECT_TRUE(bitwise_equal(copy.load("model.norm.weight"), expected));
}

// Crafted checkpoints: a shard with tensors "a" and "b" (F32 [2]) and an index over it.
class CheckpointIndexTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    write_safetensors(dir_ / "shard-1.safetensors", {{"a", at::ones({2})}, {"b", at::zeros({2})}});
  }

  fs::path write_index(const std::string& json) const { return write_bytes("model.safetensors.index.json", json); }
};

TEST_F(CheckpointIndexTest, ValidIndexOpens) {
  write_index(R"({"metadata": {"total_size": 16}, "weight_map": {"a": "shard-1.safetensors", "b": "shard-1.safetensors"}})");
  const auto checkpoint = Checkpoint::open(dir_);
  EXPECT_EQ(checkpoint.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(checkpoint.metadata().at("total_size"), "16");
  EXPECT_TRUE(bitwise_equal(checkpoint.load("a"), at::ones({2})));
}

TEST_F(CheckpointIndexTest, InvalidJson) {
  const auto index = write_index(R"({"weight_map": {"a": "shard-1.safetensors",}})");
  const auto message = error_message([&] { Checkpoint::open(dir_); });
  EXPECT_NE(message.find(index.string()), std::string::npos) << message;
  EXPECT_NE(message.find("not valid JSON"), std::string::npos) << message;
}

TEST_F(CheckpointIndexTest, MissingWeightMap) {
  const auto index = write_index(R"({"metadata": {}})");
  const auto message = error_message([&] { Checkpoint::open(dir_); });
  EXPECT_NE(message.find(index.string()), std::string::npos) << message;
  EXPECT_NE(message.find("missing \"weight_map\""), std::string::npos) << message;
}

TEST_F(CheckpointIndexTest, WeightMapValueNotString) {
  write_index(R"({"weight_map": {"a": 1}})");
  const auto message = error_message([&] { Checkpoint::open(dir_); });
  EXPECT_NE(message.find("\"a\""), std::string::npos) << message;
  EXPECT_NE(message.find("must be a string"), std::string::npos) << message;
}

TEST_F(CheckpointIndexTest, DuplicateTensorInWeightMap) {
  write_index(R"({"weight_map": {"a": "shard-1.safetensors", "a": "shard-2.safetensors"}})");
  const auto message = error_message([&] { Checkpoint::open(dir_); });
  EXPECT_NE(message.find("duplicate key \"a\""), std::string::npos) << message;
}

TEST_F(CheckpointIndexTest, MissingShard) {
  const auto index = write_index(R"({"weight_map": {"a": "shard-1.safetensors", "c": "shard-2.safetensors"}})");
  const auto message = error_message([&] { Checkpoint::open(dir_); });
  EXPECT_NE(message.find(index.string()), std::string::npos) << message;
  EXPECT_NE(message.find("shard \"shard-2.safetensors\""), std::string::npos) << message;
  EXPECT_NE(message.find("not found"), std::string::npos) << message;
}

TEST_F(CheckpointIndexTest, TensorMissingFromShard) {
  write_index(R"({"weight_map": {"a": "shard-1.safetensors", "c": "shard-1.safetensors"}})");
  const auto message = error_message([&] { Checkpoint::open(dir_); });
  EXPECT_NE(message.find("tensor \"c\""), std::string::npos) << message;
  EXPECT_NE(message.find("does not contain it"), std::string::npos) << message;
}

TEST_F(CheckpointIndexTest, UnlistedShardTensorWarnsAndIsIgnored) {
  write_index(R"({"weight_map": {"a": "shard-1.safetensors"}})");
  const CapturedLog log;
  const auto checkpoint = Checkpoint::open(dir_);
  EXPECT_TRUE(checkpoint.contains("a"));
  EXPECT_FALSE(checkpoint.contains("b"));
  EXPECT_NE(log.text().find("not listed"), std::string::npos) << log.text();
  EXPECT_NE(log.text().find("shard-1.safetensors"), std::string::npos) << log.text();
}

TEST_F(CheckpointIndexTest, ShardEscapingFolder) {
  write_index(R"({"weight_map": {"a": "../shard-1.safetensors"}})");
  const auto message = error_message([&] { Checkpoint::open(dir_); });
  EXPECT_NE(message.find("\"../shard-1.safetensors\""), std::string::npos) << message;
  EXPECT_NE(message.find("inside the index's folder"), std::string::npos) << message;

  write_index(R"({"weight_map": {"a": "sub/../../shard-1.safetensors"}})");
  EXPECT_THROW(Checkpoint::open(dir_), Error);
}

TEST_F(CheckpointIndexTest, AbsoluteShardPath) {
  write_index(R"({"weight_map": {"a": ")" + (dir_ / "shard-1.safetensors").string() + R"("}})");
  const auto message = error_message([&] { Checkpoint::open(dir_); });
  EXPECT_NE(message.find("absolute path"), std::string::npos) << message;
}

TEST_F(CheckpointIndexTest, SingleFileWinsOverIndex) {
  write_index(R"({"weight_map": {"a": "shard-1.safetensors"}})");
  write_safetensors(dir_ / "model.safetensors", {{"only", at::ones({1})}});
  const CapturedLog log;
  const auto checkpoint = Checkpoint::open(dir_);
  EXPECT_EQ(checkpoint.names(), std::vector<std::string>{"only"});
  EXPECT_NE(log.text().find("both"), std::string::npos) << log.text();
}

class CheckpointFolderTest : public TempDirTest {};

TEST_F(CheckpointFolderTest, EmptyFolderListsWhatWasLookedFor) {
  const auto message = error_message([&] { Checkpoint::open(dir_); });
  EXPECT_NE(message.find(dir_.string()), std::string::npos) << message;
  EXPECT_NE(message.find("model.safetensors and model.safetensors.index.json"), std::string::npos) << message;
}

TEST_F(CheckpointFolderTest, OtherFileIsNamed) {
  write_safetensors(dir_ / "weights.safetensors", {{"a", at::ones({1})}});
  const auto message = error_message([&] { Checkpoint::open(dir_); });
  EXPECT_NE(message.find("weights.safetensors"), std::string::npos) << message;
  EXPECT_EQ(Checkpoint::open(dir_ / "weights.safetensors").size(), 1u);
}

TEST_F(CheckpointFolderTest, MissingPath) {
  const auto message = error_message([&] { Checkpoint::open(dir_ / "absent"); });
  EXPECT_NE(message.find((dir_ / "absent").string()), std::string::npos) << message;
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
}

// ---------------------------------------------------------------------------------------------
// Writer

class SafetensorsWriter : public TempDirTest {};

TEST_F(SafetensorsWriter, RoundTripEveryDType) {
  at::manual_seed(0);
  TensorList tensors;
  for (const DType dtype : kAllDTypes) {
    tensors.emplace_back("t_" + dartquant::io::dtype_name(dtype), sample_tensor(dtype, {3, 5}));
  }
  const auto path = dir_ / "all.safetensors";
  write_safetensors(path, tensors);

  const auto file = SafetensorsFile::open(path);
  ASSERT_EQ(file->tensors().size(), tensors.size());
  for (size_t i = 0; i < kAllDTypes.size(); ++i) {
    const auto& [name, tensor] = tensors[i];
    SCOPED_TRACE(name);
    EXPECT_EQ(file->find(name)->dtype, kAllDTypes[i]);
    EXPECT_TRUE(bitwise_equal(file->load(name), tensor));
  }
}

TEST_F(SafetensorsWriter, RoundTripScalarsAndZeroSize) {
  const TensorList tensors = {{"scalar_f32", at::scalar_tensor(3.5, at::kFloat)},
                              {"scalar_bool", at::scalar_tensor(true, at::kBool)},
                              {"empty_1d", at::empty({0}, at::kBFloat16)},
                              {"empty_3d", at::empty({3, 0, 2}, at::kLong)},
                              {"after", at::arange(4, at::kInt)}};
  const auto path = dir_ / "edge.safetensors";
  write_safetensors(path, tensors);

  const auto file = SafetensorsFile::open(path);
  for (const auto& [name, tensor] : tensors) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(bitwise_equal(file->load(name), tensor));
    EXPECT_TRUE(bitwise_equal(file->view(name), tensor));
  }
  EXPECT_EQ(file->find("scalar_f32")->shape, std::vector<int64_t>{});
  EXPECT_EQ(file->find("scalar_f32")->numel(), 1);
  EXPECT_EQ(file->find("empty_3d")->numel(), 0);
}

TEST_F(SafetensorsWriter, NonContiguousInputs) {
  const auto base = at::arange(24, at::kFloat).reshape({4, 6});
  const TensorList tensors = {{"transposed", base.t()},
                              {"strided", base.slice(/*dim=*/1, /*start=*/0, /*end=*/6, /*step=*/2)},
                              {"expanded", at::arange(3, at::kShort).unsqueeze(0).expand({4, 3})}};
  ASSERT_FALSE(tensors[0].second.is_contiguous());
  ASSERT_FALSE(tensors[1].second.is_contiguous());
  ASSERT_FALSE(tensors[2].second.is_contiguous());

  const auto path = dir_ / "strided.safetensors";
  write_safetensors(path, tensors);
  const auto file = SafetensorsFile::open(path);
  for (const auto& [name, tensor] : tensors) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(bitwise_equal(file->load(name), tensor.contiguous()));
  }
}

TEST_F(SafetensorsWriter, LayoutIsSortedAlignedAndPadded) {
  const auto path = dir_ / "layout.safetensors";
  write_safetensors(path, {{"c", at::ones({3}, at::kByte)}, {"a", at::ones({2, 2}, at::kDouble)}, {"b", at::ones({5}, at::kHalf)}},
                    WriteOptions{{{"format", "pt"}}});
  const std::string bytes = dqt::read_file(path);

  uint64_t header_length = 0;
  ASSERT_GE(bytes.size(), 8u);
  std::memcpy(&header_length, bytes.data(), 8);
  EXPECT_EQ(header_length % 8, 0u);
  ASSERT_LE(8 + header_length, bytes.size());

  // Padding is trailing spaces after the JSON object.
  const std::string header = bytes.substr(8, header_length);
  const auto last_brace = header.rfind('}');
  ASSERT_NE(last_brace, std::string::npos);
  EXPECT_EQ(header.find_first_not_of(' ', last_brace + 1), std::string::npos);

  // Tensors are back to back in name order from offset 0, and the data section ends the file.
  const auto json = nlohmann::json::parse(header);
  EXPECT_EQ(json.at("__metadata__").at("format"), "pt");
  EXPECT_EQ(json.at("a").at("data_offsets"), nlohmann::json::array({0, 32}));
  EXPECT_EQ(json.at("b").at("data_offsets"), nlohmann::json::array({32, 42}));
  EXPECT_EQ(json.at("c").at("data_offsets"), nlohmann::json::array({42, 45}));
  EXPECT_EQ(json.at("b").at("dtype"), "F16");
  EXPECT_EQ(json.at("a").at("shape"), nlohmann::json::array({2, 2}));
  EXPECT_EQ(bytes.size(), 8 + header_length + 45);
  EXPECT_EQ(list_directory(dir_), std::vector<std::string>{"layout.safetensors"});
}

TEST_F(SafetensorsWriter, MetadataRoundTrip) {
  const auto path = dir_ / "meta.safetensors";
  write_safetensors(path, {{"x", at::ones({1})}}, WriteOptions{{{"format", "pt"}, {"note", "ünïcode ✓"}}});
  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  EXPECT_EQ(file->metadata().at("note"), "ünïcode ✓");
}

TEST_F(SafetensorsWriter, ReplacesExistingFile) {
  const auto path = dir_ / "replace.safetensors";
  write_safetensors(path, {{"old", at::ones({1})}});
  write_safetensors(path, {{"new", at::zeros({2})}});
  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->find("old"), nullptr);
  EXPECT_NE(file->find("new"), nullptr);
  EXPECT_EQ(list_directory(dir_), std::vector<std::string>{"replace.safetensors"});
}

TEST_F(SafetensorsWriter, EmptyTensorListIsValid) {
  const auto path = dir_ / "empty.safetensors";
  write_safetensors(path, {});
  EXPECT_TRUE(SafetensorsFile::open(path)->tensors().empty());
}

TEST_F(SafetensorsWriter, UnsupportedDTypeLeavesNoFile) {
  const auto path = dir_ / "complex.safetensors";
  const TensorList tensors = {{"a", at::ones({4})}, {"b", at::ones({4})}, {"z", at::ones({2}, at::kComplexFloat)}};
  const auto message = error_message([&] { write_safetensors(path, tensors); });
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("\"z\""), std::string::npos) << message;
  EXPECT_NE(message.find("unsupported dtype"), std::string::npos) << message;
  EXPECT_TRUE(list_directory(dir_).empty());
}

TEST_F(SafetensorsWriter, FailedWriteKeepsPreviousFile) {
  const auto path = dir_ / "keep.safetensors";
  write_safetensors(path, {{"old", at::ones({1})}});
  EXPECT_THROW(write_safetensors(path, {{"x", at::ones({1}, at::kComplexDouble)}}), Error);
  EXPECT_NE(SafetensorsFile::open(path)->find("old"), nullptr);
  EXPECT_EQ(list_directory(dir_), std::vector<std::string>{"keep.safetensors"});
}

TEST_F(SafetensorsWriter, InvalidInputsAreRejected) {
  const auto path = dir_ / "bad.safetensors";
  const auto duplicate = error_message([&] { write_safetensors(path, {{"a", at::ones({1})}, {"a", at::ones({1})}}); });
  EXPECT_NE(duplicate.find("duplicate tensor name \"a\""), std::string::npos) << duplicate;

  const auto reserved = error_message([&] { write_safetensors(path, {{"__metadata__", at::ones({1})}}); });
  EXPECT_NE(reserved.find("reserved"), std::string::npos) << reserved;

  const auto undefined = error_message([&] { write_safetensors(path, {{"u", at::Tensor()}}); });
  EXPECT_NE(undefined.find("undefined"), std::string::npos) << undefined;

  const auto sparse = error_message([&] { write_safetensors(path, {{"s", at::ones({2, 2}).to_sparse()}}); });
  EXPECT_NE(sparse.find("only dense tensors"), std::string::npos) << sparse;

  const auto utf8 = error_message([&] { write_safetensors(path, {{std::string("bad\xff"), at::ones({1})}}); });
  EXPECT_NE(utf8.find("not valid UTF-8"), std::string::npos) << utf8;

  EXPECT_TRUE(list_directory(dir_).empty());
}

TEST_F(SafetensorsWriter, ParentIsRegularFile) {
  const auto blocker = write_bytes("blocker", "x");
  const auto message = error_message([&] { write_safetensors(blocker / "out.safetensors", {{"a", at::ones({1})}}); });
  EXPECT_NE(message.find("out.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("Not a directory"), std::string::npos) << message;
  EXPECT_EQ(list_directory(dir_), std::vector<std::string>{"blocker"});
}

// A file-size limit makes write(2) fail after part of the data is on disk, the same path as a
// full disk: the temporary must go and no target may appear.
TEST_F(SafetensorsWriter, FailureMidWriteRemovesTemporary) {
  struct rlimit original {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &original), 0);
  const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limited = original;
  limited.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);

  const auto path = dir_ / "big.safetensors";
  const auto message = error_message([&] { write_safetensors(path, {{"big", at::ones({1024, 1024})}}); });

  setrlimit(RLIMIT_FSIZE, &original);
  std::signal(SIGXFSZ, previous_handler);
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("File too large"), std::string::npos) << message;
  EXPECT_TRUE(list_directory(dir_).empty());
}

// ---------------------------------------------------------------------------------------------
// Malformed files: each case names the file and the problem.

class SafetensorsMalformed : public TempDirTest {
 protected:
  // Writes `bytes` as bad.safetensors and returns the message of the error that open() throws.
  std::string open_error(const std::string& bytes) {
    const auto path = write_bytes("bad.safetensors", bytes);
    const auto message = error_message([&] { SafetensorsFile::open(path); });
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    return message;
  }

  // A one-entry header for tensor "t" whose entry body is `entry`, followed by `data_bytes` zeros.
  std::string open_entry_error(const std::string& entry, size_t data_bytes = 8) {
    return open_error(file_image(R"({"t": )" + entry + "}", std::string(data_bytes, '\0')));
  }
};

TEST_F(SafetensorsMalformed, FileShorterThanLengthField) {
  EXPECT_CONTAINS(open_error(""), "shorter than the 8-byte header length");
  EXPECT_CONTAINS(open_error("abc"), "file is 3 bytes long");
}

TEST_F(SafetensorsMalformed, HeaderLengthPastEnd) {
  const auto message = open_error(length_field(100) + "{}");
  EXPECT_CONTAINS(message, "header length 100 bytes runs past the end of the file (10 bytes)");
}

TEST_F(SafetensorsMalformed, HeaderLengthOverLimit) {
  EXPECT_CONTAINS(open_error(length_field(100'000'001) + "{}"), "exceeds the limit of 100000000 bytes");
  EXPECT_CONTAINS(open_error(length_field(~0ull) + "{}"), "exceeds the limit");
}

TEST_F(SafetensorsMalformed, HeaderNotJson) {
  EXPECT_CONTAINS(open_error(file_image("{\"t\": ")), "header is not valid JSON");
  EXPECT_CONTAINS(open_error(file_image("{} trailing")), "header is not valid JSON");
  EXPECT_CONTAINS(open_error(file_image("")), "header is not valid JSON");
}

TEST_F(SafetensorsMalformed, HeaderInvalidUtf8IsEscaped) {
  const auto message = open_error(file_image("{\"t\xff\": 1}"));
  EXPECT_CONTAINS(message, "header is not valid JSON");
  EXPECT_CONTAINS(message, "\\xff");
  EXPECT_EQ(message.find('\xff'), std::string::npos);
}

TEST_F(SafetensorsMalformed, HeaderNotObject) {
  EXPECT_CONTAINS(open_error(file_image("[1, 2]")), "header must be a JSON object, got array");
  EXPECT_CONTAINS(open_error(file_image("\"text\"")), "header must be a JSON object, got string");
}

TEST_F(SafetensorsMalformed, EntryNotObject) {
  EXPECT_CONTAINS(open_entry_error("[]"), "tensor \"t\": entry must be a JSON object");
}

TEST_F(SafetensorsMalformed, MissingFields) {
  EXPECT_CONTAINS(open_entry_error(R"({"shape": [2], "data_offsets": [0, 8]})"), "tensor \"t\": missing \"dtype\"");
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "data_offsets": [0, 8]})"), "tensor \"t\": missing \"shape\"");
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [2]})"), "tensor \"t\": missing \"data_offsets\"");
}

TEST_F(SafetensorsMalformed, WrongFieldTypes) {
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": 4, "shape": [2], "data_offsets": [0, 8]})"),
                  "\"dtype\" must be a string, got number");
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": 2, "data_offsets": [0, 8]})"),
                  "\"shape\" must be an array of integers, got number");
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]})"),
                  "shape[0] must be a non-negative integer, got 2.0");
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]})"),
                  "shape[0] must be a non-negative integer");
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [2], "data_offsets": {"begin": 0}})"),
                  "\"data_offsets\" must be an array of two integers");
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [2], "data_offsets": [0, 8, 16]})"),
                  "\"data_offsets\" must be an array of two integers");
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [2], "data_offsets": [0, 8.5]})"),
                  "data_offsets[1] must be a non-negative integer");
}

TEST_F(SafetensorsMalformed, UnsupportedDTypeListsSupported) {
  const auto message = open_entry_error(R"({"dtype": "U16", "shape": [4], "data_offsets": [0, 8]})");
  EXPECT_CONTAINS(message, "tensor \"t\": unsupported dtype \"U16\"");
  EXPECT_CONTAINS(message, "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL");
}

TEST_F(SafetensorsMalformed, NegativeDimension) {
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 8]})"),
                  "shape[1] is negative (-1)");
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [2], "data_offsets": [-1, 8]})"),
                  "data_offsets[0] is negative (-1)");
}

TEST_F(SafetensorsMalformed, OverflowingShape) {
  // 2^32 x 2^32 elements overflow int64 even though the byte span is tiny.
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]})"),
                  "has more elements than int64 can count");
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [4294967296, 4294967296, 0], "data_offsets": [0, 0]})"),
                  "has more elements than int64 can count");
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [18446744073709551615], "data_offsets": [0, 8]})"),
                  "exceeds the int64 range");
  // 2^62 F32 elements fit in int64 but their 2^64 bytes do not fit in uint64.
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 8]})"),
                  "needs more than 2^64 bytes");
}

TEST_F(SafetensorsMalformed, SizeMismatch) {
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]})", 24),
                  "shape [2, 3] with dtype F32 needs 24 bytes but data_offsets [0, 20] span 20 bytes");
}

TEST_F(SafetensorsMalformed, OffsetsReversed) {
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "U8", "shape": [4], "data_offsets": [8, 4]})"),
                  "data_offsets [8, 4] are reversed");
}

TEST_F(SafetensorsMalformed, OffsetsPastDataSection) {
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]})", 8),
                  "data_offsets [0, 16] extend past the end of the data section (8 bytes)");
}

TEST_F(SafetensorsMalformed, OverlappingTensors) {
  const std::string header =
      R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
      R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})";
  const auto message = open_error(file_image(header, std::string(12, '\0')));
  EXPECT_CONTAINS(message, "tensors \"a\" (bytes 0..8) and \"b\" (bytes 4..12) overlap");
}

TEST_F(SafetensorsMalformed, MetadataMustHoldStrings) {
  const std::string tensor = R"("t": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]})";
  EXPECT_CONTAINS(open_error(file_image(R"({"__metadata__": {"epoch": 3}, )" + tensor + "}", "x")),
                  "\"__metadata__\" value for key \"epoch\" must be a string, got number");
  EXPECT_CONTAINS(open_error(file_image(R"({"__metadata__": ["pt"], )" + tensor + "}", "x")),
                  "\"__metadata__\" must be an object of string values, got array");
}

TEST_F(SafetensorsMalformed, DuplicateTensorName) {
  const std::string header =
      R"({"t": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},)"
      R"( "t": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})";
  EXPECT_CONTAINS(open_error(file_image(header, "xy")), "duplicate tensor name \"t\" in the header");
}

TEST_F(SafetensorsMalformed, DuplicateKeyInEntry) {
  EXPECT_CONTAINS(open_entry_error(R"({"dtype": "U8", "dtype": "F64", "shape": [8], "data_offsets": [0, 8]})"),
                  "duplicate key \"dtype\" in header entry \"t\"");
}

TEST_F(SafetensorsMalformed, DeepNesting) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_CONTAINS(open_error(file_image(R"({"t": )" + deep + "}")), "nests deeper than");
}

TEST_F(SafetensorsMalformed, BoolBytesOutOfRange) {
  const auto path = write_bytes(
      "bool.safetensors", file_image(R"({"flags": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}})",
                                     std::string("\x01\x02\x00", 3)));
  const auto file = SafetensorsFile::open(path);
  const auto message = error_message([&] { file->load("flags"); });
  EXPECT_CONTAINS(message, path.string());
  EXPECT_CONTAINS(message, "tensor \"flags\": BOOL data contains bytes other than 0 and 1");
  EXPECT_THROW(file->view("flags"), Error);
}

// ---------------------------------------------------------------------------------------------
// Unusual but valid files

class SafetensorsValidEdgeCases : public TempDirTest {};

TEST_F(SafetensorsValidEdgeCases, EmptyHeaderObject) {
  const auto file = SafetensorsFile::open(write_bytes("empty.safetensors", file_image("{}")));
  EXPECT_TRUE(file->tensors().empty());
  EXPECT_TRUE(file->metadata().empty());
}

TEST_F(SafetensorsValidEdgeCases, ZeroSizeAndScalarEntries) {
  // A zero-size tensor shares its offset with a real one, and a scalar has shape [].
  const std::string header =
      R"({"empty": {"dtype": "F32", "shape": [0, 7], "data_offsets": [4, 4]},)"
      R"( "scalar": {"dtype": "I32", "shape": [], "data_offsets": [0, 4]},)"
      R"( "pair": {"dtype": "I16", "shape": [2], "data_offsets": [4, 8]}})";
  const int32_t scalar = -7;
  const int16_t pair[2] = {300, -300};
  std::string data(8, '\0');
  std::memcpy(data.data(), &scalar, 4);
  std::memcpy(data.data() + 4, pair, 4);

  const auto file = SafetensorsFile::open(write_bytes("edge.safetensors", file_image(header, data)));
  EXPECT_EQ(file->load("empty").sizes().vec(), (std::vector<int64_t>{0, 7}));
  EXPECT_EQ(file->load("scalar").dim(), 0);
  EXPECT_EQ(file->load("scalar").item<int32_t>(), -7);
  EXPECT_EQ(file->load("pair")[1].item<int16_t>(), -300);
  EXPECT_EQ(file->tensors()[0].name, "scalar");
}

// 50k one-element tensors. Header parsing must stay linear in the tensor count, so a quadratic
// regression shows up here as a test that runs for minutes instead of about a second.
TEST_F(SafetensorsValidEdgeCases, ManyTensors) {
  constexpr int kCount = 50000;
  std::string header = "{";
  std::string data;
  for (int i = 0; i < kCount; ++i) {
    header += (i == 0 ? "\"" : ",\"") + std::to_string(i) + R"(": {"dtype": "I32", "shape": [], "data_offsets": [)" +
              std::to_string(4 * i) + ", " + std::to_string(4 * i + 4) + "]}";
    data.append(reinterpret_cast<const char*>(&i), 4);
  }
  header += "}";

  const auto file = SafetensorsFile::open(write_bytes("many.safetensors", file_image(header, data)));
  ASSERT_EQ(file->tensors().size(), static_cast<size_t>(kCount));
  EXPECT_EQ(file->load("0").item<int32_t>(), 0);
  EXPECT_EQ(file->load("49999").item<int32_t>(), 49999);
  EXPECT_EQ(file->tensors().back().name, "49999");
}

TEST_F(SafetensorsValidEdgeCases, UnusedBytesWarn) {
  const CapturedLog log;
  const auto path = write_bytes(
      "holes.safetensors",
      file_image(R"({"t": {"dtype": "U8", "shape": [2], "data_offsets": [3, 5]}})", std::string(9, '\x01')));
  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->load("t").sum().item<int64_t>(), 2);
  EXPECT_CONTAINS(log.text(), "7 of 9 bytes in the data section belong to no tensor");
}

TEST_F(SafetensorsValidEdgeCases, UnalignedDataFallsBackToCopy) {
  // A 61-byte header puts the data section at offset 69, so an F32 view would be misaligned.
  std::string header = R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})";
  header.append(61 - header.size(), ' ');
  const float values[2] = {1.5f, -2.25f};
  const auto file = SafetensorsFile::open(
      write_bytes("unaligned.safetensors", file_image(header, std::string(reinterpret_cast<const char*>(values), 8))));
  ASSERT_EQ(file->data_offset(), 69u);

  const CapturedLog log;
  const auto viewed = file->view("t");
  EXPECT_EQ(viewed[1].item<float>(), -2.25f);
  EXPECT_CONTAINS(log.text(), "not aligned");
  EXPECT_TRUE(bitwise_equal(viewed, file->load("t")));
}

}  // namespace
