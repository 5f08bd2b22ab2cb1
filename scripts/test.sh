#!/usr/bin/env bash
# Every test: build, the TypeScript unit and protocol tests (node:test), then the Python
# conformance and end-to-end tests (pytest) against the kernelspec installed in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-native.sh                        # the native backend (tfjs-node); soft: WASM if it fails
npm run build
npx tsc -p packages/jupyterlab/tsconfig.test.json   # the extension's unit and UI tests, as CommonJS
bash scripts/setup-venv.sh                          # .venv, kernelspec, the built labextension
export HYPERLAB_HISTORY_FILE="${HYPERLAB_HISTORY_FILE:-$(mktemp -d)/history.jsonl}"
mapfile -t node_tests < <(find packages/*/dist packages/jupyterlab/lib-test -name '*.test.js' | sort)
node_tests+=(scripts/tests/readme.test.mjs)   # the README's commands, from a fresh clone (minutes)
node --test --test-concurrency=1 --test-reporter=spec "${node_tests[@]}"
.venv/bin/python -m pytest -q -p no:cacheprovider packages
# The experiment notebooks must reproduce their stored run records in a fresh kernel.
for notebook in notebooks/quickstart.ipynb notebooks/adapters-mnist.ipynb notebooks/continual-split-mnist.ipynb notebooks/hypernetwork-cl.ipynb notebooks/peft-methods.ipynb notebooks/sweeps.ipynb; do
  echo "hyperlab verify $notebook"
  VIRTUAL_ENV="$PWD/.venv" node packages/notebook/dist/cli.js verify "$notebook"
done
