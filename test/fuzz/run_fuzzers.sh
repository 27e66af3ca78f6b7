#!/usr/bin/env bash
# Runs each fuzz target of a build for a bounded time on its seed corpus: the shipped files and
# the bad-input catalogue. Prints "fuzz NAME: passed|failed" per target; exits non-zero if any
# failed (a crash, a sanitizer report, an exception other than input_error).
#   test/fuzz/run_fuzzers.sh BUILD_DIR [SECONDS]      (developers: a longer run, e.g. 3600)
set -uo pipefail
build=$1
seconds=${2:-45}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
seed() {  # seed NAME FILES...: a corpus directory of copies of the files
  local dir=$work/$1
  shift
  mkdir -p "$dir"
  local f i=0
  for f in "$@"; do cp "$f" "$dir/$((i++))_$(basename "$f")"; done
  echo "$dir"
}
models=$(seed models "$src"/model_specs/*.yaml "$src"/model_specs/paper/*.yaml "$src"/test/bad_inputs/model_*.yaml \
  "$src"/test/bad_inputs/hf_*.json "$src"/test/data/hf_configs/*.json)
hardware=$(seed hardware "$src"/hw_profiles/*.yaml "$src"/test/bad_inputs/hw_*.yaml)
stacks=$(seed stacks "$src"/stacks/*.yaml "$src"/test/bad_inputs/stack_*.yaml)
measurements=$(seed measurements "$src"/measurements/*.csv)
engine_runs=$(seed engine_runs "$src"/measurements/serving/*.csv)
fits=$(seed fits "$src"/scaling/*.yaml)
kernels=$(seed kernels "$src"/test/data/kernels/*.csv)
report=$(seed report "$src"/model_specs/*.yaml "$src"/model_specs/paper/*.yaml "$src"/test/data/hf_configs/*.json)
# command lines: the first byte picks serve (0), best_deployment (1) or sweep (2), then arguments a line
commands=$work/commands
mkdir -p "$commands"
printf '0\n--isl\n128\n--osl\n16\n--concurrency\n8' >"$commands/serve"
printf '0\n--mode\ndisagg\n--decode-max-batch-tokens\n4\n--format\njson' >"$commands/serve_disagg"
printf '0\n--simulate\n--requests\n50\n--concurrency\n4\n--isl-dist\nuniform:10:200' >"$commands/serve_simulated"
printf '0\n--request-rate\n5\n--arrivals\ngamma:2\n--osl-dist\nlognormal:40:30\n--requests\n80' >"$commands/serve_open"
printf '1\n--model\n%s/model_specs/llama3_8b.yaml\n--gpus\n2\n--max-concurrency\n4' "$src" >"$commands/best"
printf '2\n--batch\n1,2\n--prefill\n64,128\n--generate\n8\n--tp\n1,2' >"$commands/sweep"
mkdir -p "$build/fuzz-artifacts"  # inputs that failed, kept for a look
for target in model:$models hardware:$hardware stack:$stacks measurements:$measurements engine_runs:$engine_runs fits:$fits report:$report kernels:$kernels commands:$commands; do
  name=${target%%:*}
  corpus=${target#*:}
  log=$work/$name.log
  # -max_len: the largest shipped file is a few kB; the measurement CSVs are larger and are cut.
  if "$build/test/fuzz/fuzz_$name" "$corpus" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
       -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$build/fuzz-artifacts/$name-" >"$log" 2>&1; then
    echo "fuzz $name: passed ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') inputs in ${seconds} s)"
  else
    echo "fuzz $name: failed"
    tail -40 "$log"
    status=1
  fi
done
exit $status
