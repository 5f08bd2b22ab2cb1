#!/usr/bin/env bash
# Kernel startup and round-trip benchmark: HyperLab (`hyperlab`), ipykernel (`python3`) and tslab,
# measured in one run with the same jupyter_client code (bench.py). Prints Markdown on stdout;
# progress goes to stderr. Usage: bash scripts/bench/kernel/run.sh [bench.py options, e.g. --quick]
#
# tslab is not a dependency of the repo: it is installed on demand into .peers/ (ignored by git)
# and gets a kernelspec in a temporary JUPYTER_PATH folder that only this run sees.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

py="$root/.venv/bin/python"
if [ ! -x "$py" ]; then
  echo "run.sh: no project venv at .venv; run: bash scripts/setup-venv.sh" >&2
  exit 1
fi
node_bin="$(command -v node || true)"
if [ -z "$node_bin" ]; then
  echo "run.sh: node is not on PATH" >&2
  exit 1
fi

# Is packages/kernel/dist current? (tsc --dry only reports, it writes nothing.)
build_note=""
if [ ! -f packages/kernel/dist/cli.js ]; then
  build_note="packages/kernel/dist is missing: build with npx tsc -b packages/kernel"
elif [ -x node_modules/.bin/tsc ]; then
  dry="$(node_modules/.bin/tsc -b packages/kernel --dry 2>&1 || true)"
  if ! grep -q "is up to date" <<<"$dry"; then
    build_note="packages/kernel/dist looks out of date with src (tsc -b --dry: $(tr '\n' ' ' <<<"$dry" | cut -c1-200)); measured the built dist as it is"
  fi
fi

tslab_version=1.0.22
peers="$here/.peers"
tmp="$(mktemp -d -t hyperlab-kernel-bench.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

# --- tslab: install on demand, check it runs, write a temporary kernelspec ----------------------
tslab_problem=""
tslab_dir="$peers/node_modules/tslab"
installed="$(node -p "try { require('$tslab_dir/package.json').version } catch { '' }" 2>/dev/null || true)"
if [ "$installed" != "$tslab_version" ]; then
  echo "run.sh: installing tslab@$tslab_version into ${peers#"$root"/} ..." >&2
  mkdir -p "$peers"
  if ! npm install --prefix "$peers" --no-audit --no-fund --save-exact "tslab@$tslab_version" >"$tmp/npm.log" 2>&1; then
    tslab_problem="npm install tslab@$tslab_version failed: $(tail -n 3 "$tmp/npm.log" | tr '\n' ' ')"
  fi
fi
if [ -z "$tslab_problem" ]; then
  # npm 11 does not run zeromq's install script; zeromq 6 ships prebuilt binaries, check they load.
  if ! zmq_err="$(cd "$tslab_dir" && node -e "require('zeromq')" 2>&1)"; then
    tslab_problem="tslab's zeromq does not load (install scripts were skipped by npm): $(tail -n 2 <<<"$zmq_err" | tr '\n' ' ')"
  elif ! ver_err="$(node "$tslab_dir/bin/tslab" --version 2>&1)"; then
    tslab_problem="tslab --version failed: $(tail -n 2 <<<"$ver_err" | tr '\n' ' ')"
  fi
fi
export JUPYTER_PATH="$tmp/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
if [ -z "$tslab_problem" ]; then
  mkdir -p "$tmp/jupyter/kernels/tslab"
  # Same argv shape as tslab's own `tslab install` (python/install.py): kernel --config-path FILE.
  "$py" - "$node_bin" "$tslab_dir/bin/tslab" "$tmp/jupyter/kernels/tslab/kernel.json" <<'EOF'
import json, sys
node, tslab, out = sys.argv[1:4]
spec = {"argv": [node, tslab, "kernel", "--config-path", "{connection_file}"],
        "display_name": "TypeScript (tslab, benchmark)", "language": "typescript"}
with open(out, "w") as f:
    json.dump(spec, f, indent=1)
EOF
fi

args=(--node-version "$(node --version)" --tslab-version "$tslab_version")
[ -n "$tslab_problem" ] && args+=(--skip "tslab=$tslab_problem")
[ -n "$build_note" ] && args+=(--note "$build_note")
"$py" "$here/bench.py" "${args[@]}" "$@"
