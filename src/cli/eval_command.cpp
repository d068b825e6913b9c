// dartquant eval: perplexity (WikiText-2, any text file) and the zero-shot tasks of a model.
#include <spdlog/spdlog.h>

#include "cli_options.h"
#include "dartquant/cli/commands.h"
#include "dartquant/core/error.h"
#include "dartquant/core/json_fields.h"
#include "dartquant/eval/results.h"
#include "dartquant/export/packed_model.h"
#include "evaluation.h"

namespace dartquant::cli {

int eval_command(int argc, char** argv) {
  cxxopts::Options options("dartquant eval",
                           "Evaluate a model: WikiText-2 or text-file perplexity and the zero-shot tasks");
  options.add_options()
      ("model", "Model folder (config.json, safetensors, tokenizer; FP or packed) or a preset of configs/models.json, e.g. mixtral", cxxopts::value<std::string>())
      ("output", "Write the results JSON to FILE (atomically)", cxxopts::value<std::string>())
      ("stream-layers", "Read one decoder layer at a time for all windows (perplexity tasks only): memory holds one "
       "layer and the hidden states of every window instead of the whole model");
  EvaluationOptionNames names;
  add_evaluation_options(options, names, /*tasks_required=*/true);
  add_runtime_options(options);

  auto parsed = parse_options(options, argc, argv);
  if (!parsed) {
    return 0;
  }
  std::filesystem::path model_dir = resolve_model_option(*parsed).dir;
  ComputeOptions compute = apply_runtime_options(*parsed);

  // Check every input before the slow steps.
  auto plan = plan_evaluation(*parsed, names, /*tasks_required=*/true);
  bool stream_layers = parsed->count("stream-layers") > 0;
  if (stream_layers && !plan.zero_shot_tasks.empty()) {
    throw UsageError(str("--stream-layers evaluates perplexity tasks only, but --tasks includes ",
                         plan.zero_shot_tasks.front(), "; evaluate the zero-shot tasks in a run without it"));
  }
  auto tokenizer = tokenizer::load_tokenizer(model_dir);
  auto model = exporter::load_model(model_dir, compute,
                                    stream_layers ? model::LayerLoading::kOnDemand : model::LayerLoading::kAll);
  check_tokenizer_fits_model(*tokenizer, model.config(), model_dir);

  auto evaluation = run_evaluation(*parsed, plan, model, *tokenizer);

  if (parsed->count("output") > 0) {
    auto config = describe_evaluation(model_dir, *tokenizer, plan, evaluation, compute);
    // A packed model records how it was quantized.
    auto model_config = read_json_file(model_dir / "config.json");
    auto block = model_config.value("dartquant", nlohmann::json::object());
    config["method"] = block.value("method", "fp");
    config["bits"] = block.value("bits", "16-16-16");
    write_run_results((*parsed)["output"].as<std::string>(), evaluation, config);
  }
  return 0;
}

}  // namespace dartquant::cli
