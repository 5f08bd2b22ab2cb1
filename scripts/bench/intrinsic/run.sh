#!/usr/bin/env bash
# Intrinsic dimension of MNIST FC (issue 13), after Li, Farkhoor, Liu & Yosinski (2018): the
# 784-200-200-10 network trained directly, then in random d-dimensional subspaces (Fastfood P) with
# the d_int90 search (log grid ×2 from --lo, then bisection to 5 %). Raw results are appended to a
# JSONL file as they finish (re-running resumes); the trace table goes to docs/intrinsic-dimension.md
# (with --quick: to stdout only). Progress on stderr.
# Usage: bash scripts/bench/intrinsic/run.sh [--quick] [--render] [--epochs N] [--projection fastfood|sparse|dense]
#        [--lo D] [--hi D] [--seeds N] [--first-seed K] [--backend auto|node|wasm|cpu] [--out FILE]
# --render: no training, only write the doc from the results so far.
# Full run: 60,000 training images, 5 epochs per model (the paper: 100); --quick: 2,000 images, 1 epoch, d from 50.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

quick=""; render=""; pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick ;;
    --render) render=1 ;;
    --epochs|--projection|--lo|--hi|--dims|--seeds|--first-seed|--backend|--out) pass+=("$1" "$2"); shift ;;
    *) echo "usage: run.sh [--quick] [--render] [--epochs N] [--projection P] [--lo D] [--hi D] [--seeds N] [--backend B] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done

out="$here/results/full.jsonl"
[ -n "$quick" ] && out="$here/results/quick.jsonl"
for ((i = 0; i < ${#pass[@]}; i++)); do [ "${pass[$i]}" = "--out" ] && out="${pass[$((i + 1))]}"; done
started="$(date -u '+%Y-%m-%d %H:%M UTC')"
if [ -z "$render" ]; then
  echo "run.sh: building packages/core ..." >&2
  npx tsc -b packages/core
  [ -n "$quick" ] && rm -f "$out"
  node "$here/bench.js" $quick --out "$out" "${pass[@]}"
fi

command="bash scripts/bench/intrinsic/run.sh${quick:+ $quick}${pass:+ ${pass[*]}}"
# The header line (machine, Node, command) and the doc (docs/intrinsic-dimension.md, or stdout with --quick) come from render.js.
node "$here/render.js" "$out" --command "$command" --started "$started${render:+ (rendered from the results so far)}" ${quick:+--stdout}
