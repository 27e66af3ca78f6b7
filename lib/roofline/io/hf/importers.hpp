// io, HuggingFace import (internal): the importer of each family, one file each. An importer reads
// the fields of its model types from `in.c` and writes the spec with `in.w`; import.cpp's table
// maps model_type to it. Adding a family: one file here and one row in that table.
#pragma once

#include "roofline/io/hf/config.hpp"

namespace roofline::hf {

void import_llama(input& in);        // llama.cpp: Llama 2 and 3
void import_mistral(input& in);      // mistral.cpp: mistral, mixtral
void import_qwen(input& in);         // qwen.cpp: qwen2, qwen3, qwen3_moe
void import_qwen3_next(input& in);   // qwen3_next.cpp: Gated DeltaNet hybrid with gated attention
void import_phi3(input& in);         // phi3.cpp
void import_gemma2(input& in);       // gemma.cpp
void import_gemma3(input& in);       // gemma.cpp: its text_config
void import_gemma3_text(input& in);  // gemma.cpp: the text model's own config (Gemma-3-1B)
void import_gemma4(input& in);       // gemma4.cpp: its text_config
void import_gemma4_text(input& in);  // gemma4.cpp: the text model's own config
void import_llama4(input& in);       // llama4.cpp: its text_config
void import_llama4_text(input& in);  // llama4.cpp: the text model's own config
void import_gpt_oss(input& in);      // gpt_oss.cpp
void import_deepseek_v3(input& in);  // deepseek_v3.cpp: MLA and MoE with shared experts (and v32's DSA)
void import_jamba(input& in);        // jamba.cpp: Mamba-1 and attention, MoE
void import_gpt2(input& in);         // gpt2.cpp
void import_xlstm(input& in);        // xlstm.cpp: xLSTM-7B's xLSTMConfig
void import_mamba_ssm(input& in);    // mamba_ssm.cpp: state-spaces/mamba2 configs

}  // namespace roofline::hf
