#!/usr/bin/env bash
# Training-step benchmark: HyperLab (@hyperlab/core on the native backend — tfjs-node, when
# scripts/setup-native.sh built it, with compiled steps as train() runs them there and with eager
# steps —, on the WASM backend, and on the CPU backend for reference)
# against PyTorch on the CPU at 1 thread (tfjs-wasm's count) and at its default thread count (what
# the native backend uses too), same workloads and shapes. Prints Markdown on stdout; progress goes
# to stderr.
# Usage: bash scripts/bench/train/run.sh [--quick]
#
# HyperLab side: packages/core/src/bench/train-workloads.ts (built into dist by this script).
# PyTorch side: torch_workloads.py here. torch==2.13.0 is pinned in scripts/requirements.txt (the PEFT parity test needs it);
# if the venv lacks it, it is installed here.

set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

quick=0
[ "${1:-}" = "--quick" ] && quick=1
warmup=5; steps=30          # HyperLab wasm (after and before) and PyTorch
cpu_warmup=1; cpu_steps=5   # HyperLab cpu backend, A and B (0.5–0.8 s/step)
cpu_c_steps=3               # HyperLab cpu backend, C (~11 s/step)
if [ "$quick" = 1 ]; then warmup=2; steps=5; cpu_steps=2; cpu_c_steps=1; fi

py="$root/.venv/bin/python"
[ -x "$py" ] || { echo "run.sh: no project venv at .venv; run: bash scripts/setup-venv.sh" >&2; exit 1; }
if ! "$py" -c "import torch" 2>/dev/null; then
  echo "run.sh: installing torch==2.13.0 into .venv ..." >&2
  "$root/.venv/bin/pip" install torch==2.13.0 >&2
fi

echo "run.sh: building packages/core ..." >&2
npx tsc -b packages/core

tmp="$(mktemp -d -t hyperlab-train-bench.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
bench=packages/core/dist/bench/train-workloads.js
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date -u '+%Y-%m-%d %H:%M UTC')"

native=0
if (cd packages/core && TF_CPP_MIN_LOG_LEVEL=2 node -e "require('@tensorflow/tfjs-node')" 2>/dev/null); then native=1; fi
torch_threads="$("$py" -c 'import torch; print(torch.get_num_threads())')"
if [ "$native" = 1 ]; then
  echo "run.sh: HyperLab native (tfjs-node), compiled steps (what train() runs there) ..." >&2
  node "$bench" --backend node --compiled --warmup "$warmup" --steps "$steps" --json >"$tmp/node-compiled.json"
  echo "run.sh: HyperLab native, eager steps ..." >&2
  node "$bench" --backend node --warmup "$warmup" --steps "$steps" --json >"$tmp/node.json"
  echo "run.sh: HyperLab native, fast paths off ..." >&2
  node "$bench" --backend node --baseline --warmup "$warmup" --steps "$steps" --json >"$tmp/node-before.json"
  echo "run.sh: PyTorch ($torch_threads threads, its default) ..." >&2
  "$py" "$here/torch_workloads.py" --threads "$torch_threads" --warmup "$warmup" --steps "$steps" >"$tmp/torch-default.json"
else
  echo "run.sh: no native backend (bash scripts/setup-native.sh builds it); its columns are left out" >&2
fi
echo "run.sh: HyperLab wasm ..." >&2
node "$bench" --backend wasm --warmup "$warmup" --steps "$steps" --json >"$tmp/wasm.json"
echo "run.sh: PyTorch (1 thread) ..." >&2
"$py" "$here/torch_workloads.py" --threads 1 --warmup "$warmup" --steps "$steps" >"$tmp/torch.json"
echo "run.sh: HyperLab wasm, fast paths off (before) ..." >&2
node "$bench" --backend wasm --baseline --warmup "$warmup" --steps "$steps" --json >"$tmp/wasm-before.json"
echo "run.sh: HyperLab cpu backend ..." >&2
node "$bench" --backend cpu --workloads A,B --warmup "$cpu_warmup" --steps "$cpu_steps" --json 2>/dev/null >"$tmp/cpu-ab.json"
node "$bench" --backend cpu --workloads C --warmup "$cpu_warmup" --steps "$cpu_c_steps" --json 2>/dev/null >"$tmp/cpu-c.json"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git status --porcelain 2>/dev/null | grep -q . && echo ', with uncommitted changes' || true)"
cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"

"$py" - "$tmp" "$native" <<PYEOF
import json, sys, os
tmp, native = sys.argv[1], sys.argv[2] == "1"
load = lambda n: json.load(open(os.path.join(tmp, n)))
wasm, before, torch = load("wasm.json"), load("wasm-before.json"), load("torch.json")
cpu = {r["id"]: r for r in load("cpu-ab.json")["results"] + load("cpu-c.json")["results"]}
W = {r["id"]: r for r in wasm["results"]}
B = {r["id"]: r for r in before["results"]}
T = {r["id"]: r for r in torch["results"]}
names = {"A": "A — MLP 784-512-512-10, batch 256, Adam, all trained",
         "B": "B — same MLP + LoRA r=8 (α=16) on both hidden layers, frozen bases; trains A, B, last layer",
         "C": "C — transformer encoder block d256 h4 ff1024 (pre-norm, GELU), seq 64, batch 32, Adam, mean(out²)"}
print(f"Run of $started, HyperLab at commit $commit$dirty.")
print()
print(f"Machine: $cpu_model, nproc $(nproc), load average $load_before before, $load_after after; "
      f"Linux $(uname -r); Node {wasm['node']}, tfjs {wasm['tfjs']} ({wasm['reason']}); "
      f"PyTorch {torch['torch']} on Python {torch['python']}, torch.set_num_threads({torch['threads']}) "
      f"(tfjs-wasm in Node is single-threaded), {torch['cpuCapability'].lstrip('- ')}.")
print()
print(f"Median ms/step over {W['A']['steps']} steps after {W['A']['warmup']} warm-up steps (HyperLab cpu backend: "
      f"{cpu['A']['steps']} steps after {cpu['A']['warmup']} for A and B, {cpu['C']['steps']} for C).")
print()
print("| workload | HyperLab wasm ms/step | HyperLab cpu ms/step | PyTorch ms/step | ratio wasm/PyTorch |")
print("| --- | ---: | ---: | ---: | ---: |")
for k in "ABC":
    print(f"| {names[k]} | {W[k]['medianMs']:.1f} | {cpu[k]['medianMs']:.0f} | {T[k]['medianMs']:.1f} | {W[k]['medianMs']/T[k]['medianMs']:.2f}× |")
if native:
    N = {r["id"]: r for r in load("node-compiled.json")["results"]}
    NE = {r["id"]: r for r in load("node.json")["results"]}
    NB = {r["id"]: r for r in load("node-before.json")["results"]}
    TD = {r["id"]: r for r in load("torch-default.json")["results"]}
    nj, tdj = load("node.json"), load("torch-default.json")
    print()
    print(f"Native backend: {nj['reason']}. PyTorch at its default thread count: torch.set_num_threads({tdj['threads']}).")
    print()
    print(f"| workload | HyperLab native, compiled steps ms/step | native, eager steps | eager, fast paths off | PyTorch {tdj['threads']} threads ms/step | ratio native compiled/PyTorch {tdj['threads']}t | HyperLab wasm ms/step | speed-up native compiled/wasm |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for k in "ABC":
        n, ne, nb, td, w = N[k]["medianMs"], NE[k]["medianMs"], NB[k]["medianMs"], TD[k]["medianMs"], W[k]["medianMs"]
        print(f"| {k} | {n:.1f} | {ne:.1f} | {nb:.1f} | {td:.1f} | {n/td:.2f}× | {w:.1f} | {w/n:.2f}× |")
    print()
    print("Native checks: first-step loss native/PyTorch " + ", ".join(f"{k} {N[k]['firstLoss']:.4f}/{TD[k]['firstLoss']:.4f}" for k in "ABC")
          + "; tensors leaked per timed run " + ", ".join(f"{k} {N[k]['leakedTensors']}" for k in "ABC")
          + "; spread (min–max ms/step) " + "; ".join(f"{k} native {N[k]['minMs']:.1f}–{N[k]['maxMs']:.1f}, PyTorch {tdj['threads']}t {TD[k]['minMs']:.1f}–{TD[k]['maxMs']:.1f}" for k in "ABC") + ".")
print()
print("Before/after (HyperLab wasm; 'before' = the same build with the fast paths switched off, i.e. the previous code paths):")
print()
print("| workload | before ms/step | after ms/step | speed-up | before/PyTorch | after/PyTorch |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for k in "ABC":
    b, a, t = B[k]["medianMs"], W[k]["medianMs"], T[k]["medianMs"]
    print(f"| {k} | {b:.1f} | {a:.1f} | {b/a:.2f}× | {b/t:.2f}× | {a/t:.2f}× |")
print()
print("Checks: trained scalars HyperLab/PyTorch " + ", ".join(f"{k} {W[k]['trainedScalars']}/{T[k]['trainedScalars']}" for k in "ABC")
      + "; first-step loss HyperLab/PyTorch " + ", ".join(f"{k} {W[k]['firstLoss']:.4f}/{T[k]['firstLoss']:.4f}" for k in "ABC")
      + "; tensors leaked per timed run (wasm) " + ", ".join(f"{k} {W[k]['leakedTensors']}" for k in "ABC") + ".")
print()
print("Spread (min–max ms/step): " + "; ".join(f"{k} wasm {W[k]['minMs']:.1f}–{W[k]['maxMs']:.1f}, PyTorch {T[k]['minMs']:.1f}–{T[k]['maxMs']:.1f}" for k in "ABC") + ".")
PYEOF
