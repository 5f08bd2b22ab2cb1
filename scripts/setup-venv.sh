#!/usr/bin/env bash
# Creates .venv with the pinned Python packages (JupyterLab, test tools) and installs the
# HyperLab kernelspec into it. Idempotent: re-running only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum scripts/requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
  echo "$want" > "$stamp"
fi
# The kernelspec points at this checkout's built kernel and this Node.
VIRTUAL_ENV="$PWD/.venv" node packages/kernel/dist/cli.js install --sys-prefix >/dev/null
# (Read the whole list before matching: `jupyter … | grep -q` under pipefail fails whenever grep
# quits early and jupyter dies of the broken pipe.)
specs="$(.venv/bin/jupyter kernelspec list)"
grep -q ' hyperlab ' <<<"$specs" || { printf '%s\n' "$specs" >&2; echo "kernelspec hyperlab not visible to jupyter" >&2; exit 1; }
# New notebooks open on the HyperLab kernel: the server's default kernel (what /api/kernelspecs
# reports as "default", which JupyterLab preselects and starts for a new notebook).
# (The environment's jupyter_server_config.json: the server reads only extension switches from
# jupyter_server_config.d/.)
rm -f .venv/etc/jupyter/jupyter_server_config.d/hyperlab.json
mkdir -p .venv/etc/jupyter
cat > .venv/etc/jupyter/jupyter_server_config.json <<'JSON'
{
  "MappingKernelManager": { "default_kernel_name": "hyperlab" }
}
JSON
# The JupyterLab extension, built and installed into the venv.
bash scripts/build-labextension.sh
