// Subcommands of the dartquant tool. Each parses its own options (argv[0] is the
// subcommand name), writes results to stdout and logs to stderr, and returns the
// exit code. Errors are thrown: UsageError (exit 2) or Error (exit 1).
#pragma once

namespace dartquant::cli {

int tokenize_command(int argc, char** argv);
int eval_command(int argc, char** argv);
int quantize_command(int argc, char** argv);
int table_command(int argc, char** argv);
int inspect_command(int argc, char** argv);
int reproduce_command(int argc, char** argv);
int compare_command(int argc, char** argv);
int synth_command(int argc, char** argv);

}  // namespace dartquant::cli
