#!/usr/bin/env bash
# The example notebooks on the native backend against WASM: each notebook is copied to a temp
# folder twice, one copy with its `%backend wasm` lines changed to `%backend node`, and both are run
# in turn with `hyperlab run` (a fresh kernel, every cell), ROUNDS times; prints Markdown with the
# median wall times. The repository's notebooks are not touched (they keep pinning WASM).
# Usage: bash scripts/bench/train/notebooks.sh [ROUNDS]   (default 2; after npm run build)
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
rounds="${1:-2}"
tmp="$(mktemp -d -t hyperlab-nb-bench.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
declare -A times
for nb in quickstart adapters-mnist; do
  cp "notebooks/$nb.ipynb" "$tmp/$nb-wasm.ipynb"
  sed 's/%backend wasm/%backend node/g' "notebooks/$nb.ipynb" >"$tmp/$nb-node.ipynb"
  grep -q '%backend node' "$tmp/$nb-node.ipynb" || { echo "notebooks.sh: $nb has no %backend wasm line" >&2; exit 1; }
done
for ((r = 1; r <= rounds; r++)); do
  for nb in quickstart adapters-mnist; do
    for backend in wasm node; do
      start=$(date +%s.%N)
      node_modules/.bin/hyperlab run "$tmp/$nb-$backend.ipynb" -o "$tmp/out-$nb-$backend.ipynb" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
      t=$(echo "$(date +%s.%N) - $start" | bc)
      times[$nb-$backend]+="$t "
      echo "notebooks.sh: round $r $nb $backend ${t} s" >&2
    done
  done
done
median() { echo "$@" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
echo "Run: \`bash scripts/bench/train/notebooks.sh $rounds\`, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), load average $load_before before and $(cut -d' ' -f1-3 /proc/loadavg) after; median of $rounds rounds, wall time of \`hyperlab run\` (kernel start to last output)."
echo
echo "| notebook | WASM | native | speed-up |"
echo "| --- | ---: | ---: | ---: |"
for nb in quickstart adapters-mnist; do
  w=$(median ${times[$nb-wasm]}); n=$(median ${times[$nb-node]})
  echo "| \`$nb.ipynb\` | $(printf '%.1f' "$w") s | $(printf '%.1f' "$n") s | $(echo "scale=2; $w / $n" | bc)× |"
done
