#!/usr/bin/env bash
# Van de Ven & Tolias (2019) Split MNIST reproduction (issue 11): None, EWC, online EWC, SI, LwF,
# replay and DGR+distill in the task, domain and class scenarios, several seeds. Raw results are
# appended to a JSONL file as they finish (re-running resumes); the table goes to docs/continual.md
# (with --quick: to stdout only). Progress on stderr.
# Usage: bash scripts/bench/continual/run.sh [--quick] [--seeds N] [--first-seed K] [--backend auto|node|wasm|cpu] [--only None,EWC]
# Full run: 7 strategies × 3 scenarios × N seeds of 5 × 2000 iterations; --quick: 30 iterations, 500 images per task, 1 seed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

quick=""; pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick ;;
    --seeds|--first-seed|--backend|--only|--out) pass+=("$1" "$2"); shift ;;
    *) echo "usage: run.sh [--quick] [--seeds N] [--backend auto|node|wasm|cpu] [--only LABELS] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done

echo "run.sh: building packages/core ..." >&2
npx tsc -b packages/core

out="$here/results/${quick:+quick}${quick:-full}.jsonl"
[ -n "$quick" ] && out="$here/results/quick.jsonl" && rm -f "$out"
for ((i = 0; i < ${#pass[@]}; i++)); do [ "${pass[$i]}" = "--out" ] && out="${pass[$((i + 1))]}"; done
started="$(date -u '+%Y-%m-%d %H:%M UTC')"
node "$here/bench.js" $quick --out "$out" "${pass[@]}"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
header="Run: \`bash scripts/bench/continual/run.sh${quick:+ $quick}${pass:+ ${pass[*]}}\`, $started, $(nproc) cores ($cpu), Node $(node --version). Raw results: \`${out#"$root"/}\`."
if [ -n "$quick" ]; then
  node "$here/render.js" "$out" "$header"
else
  {
    echo "# Continual learning: Split MNIST after van de Ven & Tolias (2019)"
    echo
    echo "Protocol: \`scripts/bench/continual/bench.js\` (MLP 784-400-400-out, ReLU, Adam lr 0.001 betas 0.9/0.999 kept across tasks, batch 128, 2000 iterations per task; EWC λ 1e7/1e6/1e8, online EWC λ/γ 1e8/0.8, 1e8/0.7, 1e9/0.8, SI c 50/500/0.5 with ε 0.1, LwF and DGR+distill T = 2; Fisher from predicted labels over each task's full training set). Replay (a class-balanced buffer of 1000) has no published row."
    echo
    node "$here/render.js" "$out" "$header"
    # What the numbers mean (gaps and their measured causes): kept by hand beside the script.
    [ -f "$here/doc-notes.md" ] && { echo; cat "$here/doc-notes.md"; }
  } >docs/continual.md
  echo "run.sh: wrote docs/continual.md" >&2
fi
