#!/usr/bin/env bash
# Adapter comparison benchmark (issue 4): MNIST 0–4 → 5–9 transfer with every adapter method and
# full fine-tuning, and PEFT's multilayer-perceptron LoRA example (HyperLab, plus the PyTorch +
# PEFT notebook itself as a reference when the venv has peft). Prints Markdown on stdout (the
# tables of docs/adapters.md); progress on stderr. Raw JSON is kept when BENCH_JSON_DIR is set.
# Usage: bash scripts/bench/adapters/run.sh [--quick] [--backend wasm|cpu]
# ~4–5 minutes on 2 cores (wasm); --quick: a few seconds, for checking the script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

quick=""; backend=wasm
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick ;;
    --backend) backend="$2"; shift ;;
    *) echo "usage: run.sh [--quick] [--backend wasm|cpu]" >&2; exit 2 ;;
  esac
  shift
done

echo "run.sh: building packages/core ..." >&2
npx tsc -b packages/core

tmp="${BENCH_JSON_DIR:-$(mktemp -d -t hyperlab-adapter-bench.XXXXXX)}"
mkdir -p "$tmp"
[ -n "${BENCH_JSON_DIR:-}" ] || trap 'rm -rf "$tmp"' EXIT
started="$(date -u '+%Y-%m-%d %H:%M UTC')"

node "$here/bench.js" $quick --backend "$backend" >"$tmp/bench.json"

py="$root/.venv/bin/python"
: >"$tmp/peft_mlp.json"
if [ -x "$py" ] && "$py" -c "import peft, torch" 2>/dev/null; then
  echo "run.sh: PyTorch + PEFT reference (the notebook) ..." >&2
  epochs=30; [ -n "$quick" ] && epochs=3
  seeds=3; [ -n "$quick" ] && seeds=1
  "$py" "$here/peft_mlp.py" --epochs "$epochs" --seeds "$seeds" >"$tmp/peft_mlp.json"
else
  echo "run.sh: no torch + peft in .venv (bash scripts/setup-venv.sh): skipping the PyTorch reference" >&2
fi

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "Run: \`bash scripts/bench/adapters/run.sh${quick:+ $quick}${backend:+ --backend $backend}\`, $started, $(nproc) cores ($cpu), Node $(node --version)."
echo
node "$here/render.js" "$tmp/bench.json" "$tmp/peft_mlp.json"
