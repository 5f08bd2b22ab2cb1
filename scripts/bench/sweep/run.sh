#!/usr/bin/env bash
# %%sweep's engines and algorithms (issue 14): a 16-trial sweep inline, on 1 and 2 local child
# processes and on 2 `hyperlab worker`s behind a redis-server started on a free loopback port; then
# random search, ASHA and PBT on the same epoch budget over several seeds. Raw results are appended
# to a JSONL file as they finish (re-running resumes); the tables go to docs/sweeps.md (with
# --quick: to stdout only). Progress on stderr.
# Usage: bash scripts/bench/sweep/run.sh [--quick] [--seeds N] [--backend wasm|cpu|node] [--only engines,algorithms]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

quick=""; pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick ;;
    --seeds|--first-seed|--backend|--only|--out) pass+=("$1" "$2"); shift ;;
    *) echo "usage: run.sh [--quick] [--seeds N] [--backend wasm|cpu|node] [--only engines,algorithms] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
command -v redis-server >/dev/null || { echo "run.sh: redis-server is needed (apt-get install redis-server)" >&2; exit 2; }

echo "run.sh: building packages/magics and packages/notebook ..." >&2
npx tsc -b packages/magics packages/notebook

out="$here/results/full.jsonl"
[ -n "$quick" ] && out="$here/results/quick.jsonl" && rm -f "$out"
for ((i = 0; i < ${#pass[@]}; i++)); do [ "${pass[$i]}" = "--out" ] && out="${pass[$((i + 1))]}"; done
started="$(date -u '+%Y-%m-%d %H:%M UTC')"
node "$here/bench.js" $quick --out "$out" "${pass[@]}"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
header="Run: \`bash scripts/bench/sweep/run.sh${quick:+ $quick}${pass:+ ${pass[*]}}\`, $started, $(nproc) cores ($cpu), Node $(node --version), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end. Raw results: \`${out#"$root"/}\`."
if [ -n "$quick" ]; then
  node "$here/render.js" "$out" "$header"
else
  {
    echo "# Sweeps: engines and algorithms"
    echo
    node "$here/render.js" "$out" "$header"
    [ -f "$here/doc-notes.md" ] && { echo; cat "$here/doc-notes.md"; }
  } >docs/sweeps.md
  echo "run.sh: wrote docs/sweeps.md" >&2
fi
