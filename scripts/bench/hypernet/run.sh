#!/usr/bin/env bash
# Von Oswald et al. (2020) Split MNIST reproduction (issue 12): the hnet strategy with hypercl's
# defaults in Task-IL and Class-IL (entropy task inference), beside EWC and SI on the same streams,
# several seeds; plus the MIP check (mip.js). Raw results are appended to a JSONL file as they
# finish (re-running resumes); the tables go to docs/hypernetworks.md (with --quick: to stdout only).
# Usage: bash scripts/bench/hypernet/run.sh [--quick] [--seeds N] [--first-seed K] [--backend auto|node|wasm|cpu] [--only HNET,EWC,SI]
# Full run: 3 methods × 2 scenarios × N seeds (default 3) of 5 × 2000 iterations; --quick: 30 iterations, 500 images per task, 1 seed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

quick=""; pass=(); backend=(--backend auto)
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick ;;
    --backend) backend=(--backend "$2"); shift ;;
    --seeds|--first-seed|--only|--out) pass+=("$1" "$2"); shift ;;
    *) echo "usage: run.sh [--quick] [--seeds N] [--first-seed K] [--backend auto|node|wasm|cpu] [--only LABELS] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done

echo "run.sh: building packages/core ..." >&2
npx tsc -b packages/core

out="$here/results/full.jsonl"
mip="$here/results/mip.json"
if [ -n "$quick" ]; then out="$here/results/quick.jsonl"; mip="$here/results/mip-quick.json"; rm -f "$out"; fi
for ((i = 0; i < ${#pass[@]}; i++)); do [ "${pass[$i]}" = "--out" ] && out="${pass[$((i + 1))]}"; done
started="$(date -u '+%Y-%m-%d %H:%M UTC')"
node "$here/bench.js" $quick --out "$out" "${backend[@]}" "${pass[@]}"
[ -f "$mip" ] && [ -z "$quick" ] || node "$here/mip.js" $quick "${backend[@]}" --out "$mip" >&2

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
header="Run: \`bash scripts/bench/hypernet/run.sh${quick:+ $quick}${pass:+ ${pass[*]}}\`, $started, $(nproc) cores ($cpu), Node $(node --version). Raw results: \`${out#"$root"/}\`."
if [ -n "$quick" ]; then
  node "$here/render.js" "$out" "$header" "$mip"
else
  node "$here/render.js" "$out" "$header" "$mip" > "$root/docs/hypernetworks.results.md"
  node "$here/update-doc.js" "$root/docs/hypernetworks.md" "$root/docs/hypernetworks.results.md"
  rm "$root/docs/hypernetworks.results.md"
  echo "run.sh: tables written to docs/hypernetworks.md" >&2
fi
