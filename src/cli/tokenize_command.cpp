// dartquant tokenize: prints the token ids of a text as a JSON array.
#include <iostream>
#include <string>
#include <vector>

#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include "cli/cli_options.h"
#include "dartquant/cli/commands.h"
#include "dartquant/core/error.h"
#include "dartquant/core/logging.h"
#include "dartquant/tokenizer/tokenizer.h"
#include "tokenizer/file_bytes.h"

namespace dartquant::cli {

int tokenize_command(int argc, char** argv) {
  cxxopts::Options options("dartquant tokenize",
                           "Prints the token ids of a text as a JSON array on one line of stdout. The tokenizer is "
                           "the folder's tokenizer.model (SentencePiece) when present, else its tokenizer.json.");
  options.custom_help("--model DIR (--text STR | --file F) [--no-bos]");
  options.add_options()
      ("model", "Model folder that contains tokenizer.model or tokenizer.json", cxxopts::value<std::string>(), "DIR")
      ("text", "Text to encode (UTF-8)", cxxopts::value<std::string>(), "STR")
      ("file", "File whose bytes are the text to encode, read unchanged", cxxopts::value<std::string>(), "F")
      ("no-bos", "Encode without special tokens. By default they are added as tokenizer_config.json "
                 "sets them (BOS for Llama and DeepSeek)")
      ("log-level", "Log level on stderr: trace, debug, info, warn, error, off",
       cxxopts::value<std::string>()->default_value("info"));

  const auto parsed = parse_options(options, argc, argv);
  if (!parsed.has_value()) {
    return 0;
  }
  configure_logging((*parsed)["log-level"].as<std::string>());
  const std::string model = required_string(*parsed, "model");
  if (parsed->count("text") + parsed->count("file") != 1) {
    throw UsageError("pass exactly one of --text STR and --file F; run with --help for the list of options");
  }

  const std::string text = parsed->count("text") != 0
                               ? (*parsed)["text"].as<std::string>()
                               : tokenizer::read_file_bytes((*parsed)["file"].as<std::string>());
  const auto tok = tokenizer::load_tokenizer(model);
  const std::vector<int64_t> ids =
      parsed->count("no-bos") != 0 ? tok->encode(text) : tok->encode_with_special_tokens(text);

  std::cout << nlohmann::json(ids).dump() << '\n' << std::flush;
  return 0;
}

}  // namespace dartquant::cli
