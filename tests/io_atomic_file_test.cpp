// Tests of the file helpers under the safetensors module: atomic replacement and read-only mapping.
#include <filesystem>
#include <string>
#include <vector>

#include "dartquant/core/error.h"
#include "dartquant/io/atomic_directory.h"
#include "dartquant/io/atomic_file.h"
#include "dartquant/io/mapped_file.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
namespace dqt = dartquant::testing;
using dartquant::Error;
using dartquant::io::AtomicFile;
using dartquant::io::MappedFile;

std::vector<std::string> list_directory(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = dqt::make_temp_dir("dq-atomic"); }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

class AtomicFileTest : public TempDirTest {};

TEST_F(AtomicFileTest, CommitCreatesTarget) {
  const auto target = dir_ / "out.json";
  {
    AtomicFile file(target);
    EXPECT_EQ(file.temp_path().parent_path(), dir_);
    EXPECT_EQ(file.temp_path().filename().string().rfind(".out.json.tmp-", 0), 0u) << file.temp_path();
    EXPECT_FALSE(fs::exists(target));
    file.write("hello ");
    file.write("world");
    file.commit();
    EXPECT_TRUE(file.committed());
  }
  EXPECT_EQ(dqt::read_file(target), "hello world");
  EXPECT_EQ(list_directory(dir_), std::vector<std::string>{"out.json"});
}

TEST_F(AtomicFileTest, UncommittedRemovesTemporary) {
  const auto target = dir_ / "out.json";
  dqt::write_file(target, "old");
  {
    AtomicFile file(target);
    file.write("new");
    EXPECT_TRUE(fs::exists(file.temp_path()));
  }
  EXPECT_EQ(dqt::read_file(target), "old");
  EXPECT_EQ(list_directory(dir_), std::vector<std::string>{"out.json"});
}

TEST_F(AtomicFileTest, ExceptionBeforeCommitRemovesTemporary) {
  const auto target = dir_ / "out.bin";
  try {
    AtomicFile file(target);
    file.write("partial");
    throw Error("simulated failure");
  } catch (const Error&) {
  }
  EXPECT_TRUE(list_directory(dir_).empty());
}

TEST_F(AtomicFileTest, CommitReplacesExistingFile) {
  const auto target = dir_ / "out.txt";
  dqt::write_file(target, "old content that is longer");
  dartquant::io::write_file_atomically(target, "new");
  EXPECT_EQ(dqt::read_file(target), "new");
  EXPECT_EQ(list_directory(dir_), std::vector<std::string>{"out.txt"});
}

TEST_F(AtomicFileTest, ParentIsRegularFile) {
  const auto blocker = dir_ / "blocker";
  dqt::write_file(blocker, "x");
  try {
    AtomicFile file(blocker / "out.txt");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find((blocker / "out.txt").string()), std::string::npos) << message;
    EXPECT_NE(message.find("Not a directory"), std::string::npos) << message;
  }
  EXPECT_EQ(list_directory(dir_), std::vector<std::string>{"blocker"});
}

TEST_F(AtomicFileTest, MissingParentDirectory) {
  EXPECT_THROW(AtomicFile(dir_ / "absent" / "out.txt"), Error);
  EXPECT_TRUE(list_directory(dir_).empty());
}

TEST_F(AtomicFileTest, TargetIsDirectoryFailsOnCommit) {
  const auto target = dir_ / "sub";
  fs::create_directory(target);
  fs::create_directory(target / "keep");
  {
    AtomicFile file(target);
    file.write("data");
    EXPECT_THROW(file.commit(), Error);
  }
  EXPECT_EQ(list_directory(dir_), std::vector<std::string>{"sub"});
}

TEST_F(AtomicFileTest, WriteAfterCommitThrows) {
  AtomicFile file(dir_ / "once.txt");
  file.commit();
  EXPECT_THROW(file.write("late"), Error);
  EXPECT_THROW(file.commit(), Error);
  EXPECT_EQ(dqt::read_file(dir_ / "once.txt"), "");
}

class MappedFileTest : public TempDirTest {};

TEST_F(MappedFileTest, MapsContents) {
  const auto path = dir_ / "data.bin";
  dqt::write_file(path, "0123456789");
  const MappedFile file(path);
  EXPECT_EQ(file.size(), 10u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(file.data()), file.size()), "0123456789");
  file.advise(3, 100, dartquant::io::Advice::kWillNeed);
}

TEST_F(MappedFileTest, EmptyFileHasNoData) {
  const auto path = dir_ / "empty.bin";
  dqt::write_file(path, "");
  const MappedFile file(path);
  EXPECT_EQ(file.size(), 0u);
  EXPECT_EQ(file.data(), nullptr);
}

TEST_F(MappedFileTest, MissingFileNamesPath) {
  try {
    MappedFile file(dir_ / "absent.bin");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("absent.bin"), std::string::npos) << message;
    EXPECT_NE(message.find("No such file"), std::string::npos) << message;
  }
}

TEST_F(MappedFileTest, DirectoryIsRejected) {
  try {
    MappedFile file(dir_);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("not a regular file"), std::string::npos) << error.what();
  }
}

TEST_F(MappedFileTest, MoveTransfersMapping) {
  const auto path = dir_ / "data.bin";
  dqt::write_file(path, "abc");
  MappedFile first(path);
  const uint8_t* data = first.data();
  MappedFile second(std::move(first));
  EXPECT_EQ(second.data(), data);
  EXPECT_EQ(second.size(), 3u);
  EXPECT_EQ(first.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is specified
}

}  // namespace

// The free-space check compares with the file system's real free space: an
// impossible size fails naming both sizes, a small one passes.
TEST(FreeSpace, TooLargeOutputFails) {
  auto dir = dqt::make_temp_dir("free-space");
  try {
    dartquant::io::check_free_space(dir / "out", int64_t{1} << 60, "the test output");
    FAIL() << "an exbibyte fitted";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("free, but the test output needs about 1099511627776 MiB"), std::string::npos) << message;
    EXPECT_NE(message.find("free some space or write elsewhere"), std::string::npos) << message;
  }
  EXPECT_NO_THROW(dartquant::io::check_free_space(dir / "out", 1024, "the test output"));
  fs::remove_all(dir);
}
