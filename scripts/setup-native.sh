#!/usr/bin/env bash
# The native backend: @tensorflow/tfjs-node 4.22 with its addon built against the TensorFlow C
# library inside PyPI's tensorflow-cpu wheel (tfjs-node's own install downloads libtensorflow from
# storage.googleapis.com, which HyperLab does not need). Idempotent, cached, and failing soft:
# if anything here fails, HyperLab still runs on WASM, the reason is printed once, and the exit
# status is 0.
#
#   bash scripts/setup-native.sh          # called by npm run lab, npm test and .ci/run
#
# Environment:
#   HYPERLAB_NATIVE=0         skip (the backend then stays WASM)
#   HYPERLAB_CACHE            cache folder (default ${XDG_CACHE_HOME:-~/.cache}/hyperlab): the
#                             wheel, the extracted library and headers, and built addons, shared by
#                             every clone on the machine, so only the first setup downloads
#   HYPERLAB_TF_WHEEL         a tensorflow-cpu wheel already on disk (skips the download)
#
# Steps (each skipped when its result is there):
#   1. the addon is built and loads → done;
#   2. tfjs-node's JavaScript is in node_modules (npm removes an optional dependency whose install
#      script failed; it is put back with `npm install --ignore-scripts`);
#   3. wheel → $HYPERLAB_CACHE/wheels (pip download, no dependencies; the wheel is only unzipped);
#   4. libtensorflow_cc.so.2 + libtensorflow_framework.so.2 + the C API headers →
#      $HYPERLAB_CACHE/libtensorflow/<tf>/{lib,include}, with libtensorflow.so →
#      libtensorflow_cc.so.2 (it exports the C API and needs no Python) and the sentinel
#      libtensorflow.so.2.9.1 that makes tfjs-node's install.js skip its download;
#      node_modules/@tensorflow/tfjs-node/deps is a symlink to that folder;
#   5. the addon: from $HYPERLAB_CACHE/addons if built before for this tfjs-node, TF, Node major and
#      N-API version, else tfjs-node's own scripts/install.js (node-pre-gyp --fallback-to-build)
#      with build-from-source and the local Node headers, then cached;
#   6. check: require('@tensorflow/tfjs-node') gives the 'tensorflow' backend.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

TFJS_NODE_VERSION=4.22.0
TF_VERSION=2.15.1
WHEEL_PYTHON=3.11   # the wheel's Python tag only; nothing of it is imported
SENTINEL=libtensorflow.so.2.9.1   # tfjs-node 4.22's scripts/deps-constants.js LIBTENSORFLOW_VERSION
pkg="$root/node_modules/@tensorflow/tfjs-node"
cache="${HYPERLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hyperlab}"
log="$cache/setup-native.log"

say() { echo "setup-native: $*" >&2; }

# Loads the addon the way @hyperlab/core does (from packages/core, quietly); prints TF's version.
addon_loads() {
  (cd "$root/packages/core" && TF_CPP_MIN_LOG_LEVEL=2 node -e "
    const tf = require('@tensorflow/tfjs-node');
    if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
    const s = tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0];
    if (s !== 6) throw new Error('1+2+3 = ' + s);
    process.stdout.write(tf.backend().binding.TF_Version);
  " 2>&1)
}

if [ "${HYPERLAB_NATIVE:-1}" = 0 ]; then
  say "skipped (HYPERLAB_NATIVE=0); HyperLab uses WASM"
  exit 0
fi
if [ -d "$pkg" ] && version="$(addon_loads)"; then
  say "native backend ready (tfjs-node $TFJS_NODE_VERSION, TensorFlow $version)"
  exit 0
fi

mkdir -p "$cache" || { say "native backend unavailable, HyperLab uses WASM: cannot create cache folder $cache"; exit 0; }
: >"$log"

# Each step prints its failure reason on stdout (one line) and returns non-zero.
fail() { echo "$*"; return 1; }

check_platform() {
  [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || fail "needs Linux x86_64 (the wheels are manylinux x86_64), this is $(uname -s)-$(uname -m)" || return
  local include; include="$(node -p "require('path').resolve(process.execPath, '../../include/node')")"
  [ -f "$include/node_api.h" ] || fail "Node's C headers are not in $include (install Node with headers, e.g. the nodesource deb)" || return
  nodedir="$(dirname "$(dirname "$include")")"
  local tool
  for tool in g++ make python3; do
    command -v "$tool" >/dev/null || fail "$tool is missing (Debian: apt-get install g++ make python3)" || return
  done
}

ensure_package() {
  [ -f "$pkg/package.json" ] && return 0
  say "restoring @tensorflow/tfjs-node's JavaScript (npm install --ignore-scripts) ..."
  npm install --ignore-scripts --no-audit --no-fund >>"$log" 2>&1 || fail "npm install --ignore-scripts failed (see $log)" || return
  [ -f "$pkg/package.json" ] || fail "@tensorflow/tfjs-node is not in node_modules after npm install (is it still in packages/core's optionalDependencies?)" || return
}

# Sets $wheel.
ensure_wheel() {
  if [ -n "${HYPERLAB_TF_WHEEL:-}" ]; then
    wheel="$HYPERLAB_TF_WHEEL"
    [ -f "$wheel" ] || fail "HYPERLAB_TF_WHEEL=$wheel does not exist" || return
    return 0
  fi
  local dir="$cache/wheels"
  wheel="$(ls "$dir"/tensorflow_cpu-"$TF_VERSION"-*.whl 2>/dev/null | head -1)"
  [ -n "$wheel" ] && return 0
  local pip=()
  if python3 -m pip --version >/dev/null 2>&1; then pip=(python3 -m pip)
  elif [ -x "$root/.venv/bin/python" ]; then pip=("$root/.venv/bin/python" -m pip)
  else fail "no pip (python3 -m pip) to download the tensorflow-cpu wheel"; return 1
  fi
  say "downloading tensorflow-cpu==$TF_VERSION from PyPI (~207 MB, once per machine) ..."
  mkdir -p "$dir.tmp" &&
    "${pip[@]}" download --no-deps --only-binary=:all: --python-version "$WHEEL_PYTHON" \
      --platform manylinux2014_x86_64 -d "$dir.tmp" "tensorflow-cpu==$TF_VERSION" >>"$log" 2>&1 ||
    fail "pip download tensorflow-cpu==$TF_VERSION failed (see $log)" || return
  mkdir -p "$dir" && mv "$dir.tmp"/tensorflow_cpu-"$TF_VERSION"-*.whl "$dir"/ && rmdir "$dir.tmp" || fail "cannot move the wheel into $dir" || return
  wheel="$(ls "$dir"/tensorflow_cpu-"$TF_VERSION"-*.whl | head -1)"
}

# Sets $deps: the extracted library folder.
ensure_libtensorflow() {
  deps="$cache/libtensorflow/$TF_VERSION"
  [ -e "$deps/lib/$SENTINEL" ] && [ -f "$deps/include/tensorflow/c/c_api.h" ] && return 0
  say "extracting libtensorflow_cc and the C API headers from $(basename "$wheel") ..."
  rm -rf "$deps.tmp"
  python3 - "$wheel" "$deps.tmp" >>"$log" 2>&1 <<'PY' || fail "extracting the TensorFlow C library from the wheel failed (see $log)" || return
import os, re, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
libs = {"tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"}
header = re.compile(r"tensorflow/include/(tensorflow/c/.*\.h|tensorflow/core/platform/ctstring.*\.h|tsl/c/.*\.h|tsl/platform/ctstring.*\.h)$")
found = set()
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name in libs:
            target = os.path.join(out, "lib", os.path.basename(name))
        elif header.match(name):
            target = os.path.join(out, "include", name[len("tensorflow/include/"):])
        else:
            continue
        found.add(name if name in libs else "headers")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
missing = (libs | {"headers"}) - found
if missing:
    sys.exit(f"not in the wheel: {sorted(missing)}")
lib = os.path.join(out, "lib")
os.symlink("libtensorflow_cc.so.2", os.path.join(lib, "libtensorflow.so"))
os.symlink("libtensorflow_framework.so.2", os.path.join(lib, "libtensorflow_framework.so"))
print("extracted", sorted(found))
PY
  ln -s libtensorflow.so "$deps.tmp/lib/$SENTINEL" &&
    rm -rf "$deps" && mkdir -p "$(dirname "$deps")" && mv "$deps.tmp" "$deps" || fail "cannot move the extracted library into $deps" || return
}

ensure_addon() {
  local napi node_major key addon_dir built
  napi="$(node -p 'Math.min(8, Number(process.versions.napi))')"   # tfjs-node's binary.napi_versions end at 8
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  key="tfjs-node-$TFJS_NODE_VERSION-tf-$TF_VERSION-node$node_major-napi$napi"
  addon_dir="$cache/addons/$key"
  built="$pkg/lib/napi-v$napi/tfjs_binding.node"
  rm -rf "$pkg/deps" && ln -s "$deps" "$pkg/deps" || fail "cannot link $pkg/deps to $deps" || return
  if [ -f "$addon_dir/tfjs_binding.node" ]; then
    mkdir -p "$(dirname "$built")" && cp "$addon_dir/tfjs_binding.node" "$built" || fail "cannot copy the cached addon" || return
    return 0
  fi
  say "building tfjs-node's addon against TensorFlow $TF_VERSION (node-gyp, ~10 s) ..."
  (cd "$pkg" && PATH="$root/node_modules/.bin:$PATH" \
    npm_config_build_from_source=true npm_config_nodedir="$nodedir" \
    node scripts/install.js) >>"$log" 2>&1 || fail "building the addon failed (tfjs-node's scripts/install.js; see $log)" || return
  [ -f "$built" ] || fail "the build produced no $built (see $log)" || return
  mkdir -p "$addon_dir" && cp "$built" "$addon_dir/tfjs_binding.node.tmp" && mv "$addon_dir/tfjs_binding.node.tmp" "$addon_dir/tfjs_binding.node"
}

setup() {
  check_platform && ensure_package && ensure_wheel && ensure_libtensorflow && ensure_addon || return 1
  local out
  out="$(addon_loads)" || fail "the built addon does not load: $(echo "$out" | grep -m1 -i error)" || return
  version="$out"
}

started=$SECONDS
if reason="$(setup)"; then
  version="$(addon_loads)"
  say "native backend ready (tfjs-node $TFJS_NODE_VERSION, TensorFlow $version; set up in $((SECONDS - started)) s, cache $cache)"
else
  say "native backend unavailable, HyperLab uses WASM: ${reason:-unknown failure (see $log)}"
fi
exit 0

