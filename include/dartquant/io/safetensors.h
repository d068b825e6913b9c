// The safetensors I/O module: reading files and checkpoints, and writing files.
#pragma once

#include "dartquant/io/checkpoint.h"
#include "dartquant/io/dtype.h"
#include "dartquant/io/safetensors_file.h"
#include "dartquant/io/safetensors_writer.h"
