#!/usr/bin/env bash
# Builds the JupyterLab extension (packages/jupyterlab) as a prebuilt labextension with
# @jupyterlab/builder against the venv's JupyterLab, and installs it into .venv as the Python
# package hyperlab-jupyterlab (as the official extension template distributes extensions).
# Needs `npm run build` (packages/jupyterlab/lib) and .venv (scripts/setup-venv.sh). Skips the
# webpack build when its inputs have not changed since the last one.
set -euo pipefail
cd "$(dirname "$0")/.."
ext=packages/jupyterlab
staging="$(.venv/bin/python -c 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))')"
stamp="$ext/hyperlab_jupyterlab/labextension/.inputs.sha256"
want="$( (find "$ext/lib" "$ext/schema" "$ext/style" -type f -print0 | sort -z | xargs -0 sha256sum; sha256sum "$ext/package.json" package-lock.json) | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "build-labextension: webpack (production) ..." >&2
  rm -rf "$ext/hyperlab_jupyterlab/labextension"
  node node_modules/@jupyterlab/builder/lib/build-labextension.js --core-path "$staging" "$ext" >/dev/null
  echo "$want" > "$stamp"
fi
installed=.venv/share/jupyter/labextensions/@hyperlab/jupyterlab/.inputs.sha256
if [ ! -f "$installed" ] || [ "$(cat "$installed")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall "./$ext"
fi
listed="$(.venv/bin/jupyter labextension list 2>&1)"   # whole, then matched (no broken pipe under pipefail)
grep -q '@hyperlab/jupyterlab.*enabled.*OK' <<<"$listed" || { printf '%s\n' "$listed" >&2; echo "build-labextension: @hyperlab/jupyterlab is not enabled and OK" >&2; exit 1; }
