#!/usr/bin/env bash
# One command from a fresh clone to JupyterLab with the HyperLab kernel:
# npm dependencies, build, a .venv with pinned JupyterLab, the kernelspec, then `jupyter lab notebooks/`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci
fi
bash scripts/setup-native.sh   # tfjs-node built against PyPI's TensorFlow; soft: WASM if it fails
npm run build
bash scripts/setup-venv.sh
extra=()
if [ "$(id -u)" = 0 ]; then extra+=(--allow-root); fi
exec .venv/bin/jupyter lab notebooks/ "${extra[@]}" "$@"
