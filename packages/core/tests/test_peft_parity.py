"""Parity between HyperLab's adapters (packages/core/dist/adapters) and Hugging Face PEFT.

The same small model on both sides: an MLP 16 → 32 → 8 with ReLU. In PyTorch it is a module whose
linears are children '0' and '1' (HyperLab's mlp names, so PEFT's keys and HyperLab's keys agree,
`base_model.model.0.lora_A.weight`); `test_sequential_names_map_explicitly` also checks PyTorch's
usual nn.Sequential naming ('0', ReLU '1', '2') with the keys renamed explicitly.

For LoRA (plain and rsLoRA), DoRA, VeRA and (IA)³ (output and feed-forward scaling):
- PEFT → HyperLab: PyTorch writes the base weights (safetensors), PEFT `get_peft_model` adds the
  adapter, every adapter parameter is set to seeded random values (B non-zero), `save_pretrained`
  writes PEFT's directory; HyperLab reads the base, `loadAdapter`s the directory, and its forward
  (adapted, base-only and merged) equals PEFT's within 1e-4.
- HyperLab → PEFT: HyperLab writes its initial base weights, adds the same adapter with random
  values, `saveAdapter`s it; PyTorch loads the base, `PeftModel.from_pretrained` loads the
  directory, and PEFT's forward equals HyperLab's within 1e-4.
Every HyperLab backend is checked: cpu, wasm, and node (TensorFlow's C library through
tfjs-node) where scripts/setup-native.sh built its addon.

Needs a build (`npx tsc -b packages/core`), Node on PATH, and torch + peft in the venv
(scripts/requirements.txt). The Node side is tests/peft_parity_node.js.
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")
from peft import IA3Config, LoraConfig, PeftModel, VeraConfig, get_peft_model  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

CORE = Path(__file__).resolve().parents[1]
HELPER = Path(__file__).with_name("peft_parity_node.js")
BUILT = CORE / "dist" / "index.js"
SIZES = [16, 32, 8]
TOL = 1e-4


def native_backend_loads():
    """Whether @tensorflow/tfjs-node loads from packages/core (its addon is built)."""
    probe = subprocess.run(["node", "-e", "require('@tensorflow/tfjs-node')"], cwd=CORE, capture_output=True, text=True,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, timeout=60)
    return probe.returncode == 0


BACKENDS = ["cpu", "wasm"] + (["node"] if native_backend_loads() else [])


class Mlp(torch.nn.Module):
    """HyperLab's mlp([16, 32, 8]) in PyTorch: linears named '0' and '1', ReLU between them."""

    def __init__(self, sizes=SIZES):
        super().__init__()
        for i in range(len(sizes) - 1):
            self.add_module(str(i), torch.nn.Linear(sizes[i], sizes[i + 1]))
        self.n = len(sizes) - 1

    def forward(self, x):
        for i in range(self.n):
            x = getattr(self, str(i))(x)
            if i < self.n - 1:
                x = torch.relu(x)
        return x


# method name → (PEFT config, HyperLab config): the same adapter described both ways.
METHODS = {
    "lora": (
        lambda: LoraConfig(r=4, lora_alpha=8, target_modules=["0", "1"]),
        {"method": "lora", "r": 4, "loraAlpha": 8, "targetModules": ["0", "1"]},
    ),
    "lora-rslora": (
        lambda: LoraConfig(r=4, lora_alpha=6, use_rslora=True, target_modules=["0", "1"]),
        {"method": "lora", "r": 4, "loraAlpha": 6, "useRslora": True, "targetModules": ["0", "1"]},
    ),
    "dora": (
        lambda: LoraConfig(r=4, lora_alpha=8, use_dora=True, target_modules=["0", "1"]),
        {"method": "dora", "r": 4, "loraAlpha": 8, "targetModules": ["0", "1"]},
    ),
    "vera": (
        lambda: VeraConfig(r=4, target_modules=["0", "1"], save_projection=True),
        {"method": "vera", "r": 4, "targetModules": ["0", "1"], "saveProjection": True},
    ),
    "ia3": (
        lambda: IA3Config(target_modules=["0", "1"], feedforward_modules=[]),
        {"method": "ia3", "targetModules": ["0", "1"]},
    ),
    "ia3-feedforward": (
        lambda: IA3Config(target_modules=["0", "1"], feedforward_modules=["1"]),
        {"method": "ia3", "targetModules": ["0", "1"], "feedforwardModules": ["1"]},
    ),
}


def node(job, tmp_path):
    if not BUILT.exists():
        pytest.fail(f"{BUILT} is missing: build first (npx tsc -b packages/core)")
    file = tmp_path / f"job-{job['backend']}.json"
    file.write_text(json.dumps(job))
    result = subprocess.run(["node", str(HELPER), str(file)], capture_output=True, text=True, timeout=180, cwd=CORE)
    if result.returncode != 0:
        pytest.fail(f"node helper failed ({result.returncode}): {result.stderr}")
    return json.loads(result.stdout)


def randomize_peft(model, seed):
    """Every adapter parameter of a PEFT model set to seeded random values (B non-zero)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            values = 0.2 * torch.randn(p.shape, generator=gen)
            if "lora_magnitude_vector" in name:
                values = 0.5 + values.abs()
            elif "ia3_l" in name:
                values = 1 + values
            p.copy_(values)


def make_input(tmp_path, seed=3):
    x = torch.randn((5, SIZES[0]), generator=torch.Generator().manual_seed(seed))
    file = tmp_path / "x.safetensors"
    save_file({"x": x.contiguous()}, str(file))
    return x, file


def assert_close(actual, expected, what):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    diff = np.abs(actual - expected).max()
    assert diff <= TOL, f"{what}: max |difference| {diff:.3g} > {TOL}"


def peft_keys(directory):
    return sorted(load_file(str(Path(directory) / "adapter_model.safetensors")).keys())


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", list(METHODS))
def test_peft_adapter_loads_in_hyperlab_with_equal_outputs(tmp_path, method, backend):
    peft_config, _ = METHODS[method]
    torch.manual_seed(0)
    base = Mlp()
    base_file = tmp_path / "base.safetensors"
    save_file({k: v.contiguous() for k, v in base.state_dict().items()}, str(base_file))
    x, x_file = make_input(tmp_path)
    with torch.no_grad():
        base_out = base(x).numpy()

    model = get_peft_model(base, peft_config())
    randomize_peft(model, seed=11)
    model.eval()
    with torch.no_grad():
        want = model(x).numpy()
    assert np.abs(want - base_out).max() > 1e-2, "the adapter must change the output (non-trivial weights)"
    adapter_dir = tmp_path / "from_peft"
    model.save_pretrained(str(adapter_dir))

    got = node({"backend": backend, "sizes": SIZES, "from": "file", "base": str(base_file), "input": str(x_file), "load": str(adapter_dir)}, tmp_path)
    assert got["backend"] == backend
    assert got["keys"] == peft_keys(adapter_dir)
    assert_close(got["base"], base_out, f"{method}: base forward (adapters disabled)")
    assert_close(got["outputs"], want, f"{method}: adapted forward, PEFT's adapter in HyperLab")
    if "merged" in got:
        assert_close(got["merged"], want, f"{method}: merged forward")
    peft_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert got["trainable"] == peft_trainable, f"{method}: trainable count {got['trainable']} != PEFT's {peft_trainable}"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", list(METHODS))
def test_hyperlab_adapter_loads_in_peft_with_equal_outputs(tmp_path, method, backend):
    _, hl_config = METHODS[method]
    x, x_file = make_input(tmp_path)
    base_file = tmp_path / "base.safetensors"
    adapter_dir = tmp_path / "from_hyperlab"
    got = node(
        {"backend": backend, "sizes": SIZES, "from": "init", "base": str(base_file), "input": str(x_file), "config": hl_config, "save": str(adapter_dir), "seed": 5},
        tmp_path,
    )
    assert np.abs(np.array(got["outputs"]) - np.array(got["base"])).max() > 1e-2, "the adapter must change the output"

    base = Mlp()
    base.load_state_dict(load_file(str(base_file)))
    base.eval()
    with torch.no_grad():
        assert_close(base(x).numpy(), got["base"], f"{method}: base forward")
    model = PeftModel.from_pretrained(base, str(adapter_dir))
    model.eval()
    with torch.no_grad():
        want = model(x).numpy()
    assert_close(got["outputs"], want, f"{method}: adapted forward, HyperLab's adapter in PEFT")
    # And PEFT's own save of what it loaded has exactly HyperLab's keys.
    resaved = tmp_path / "resaved"
    model.save_pretrained(str(resaved))
    assert peft_keys(resaved) == got["keys"]


def test_sequential_names_map_explicitly(tmp_path):
    """PyTorch's usual nn.Sequential (Linear '0', ReLU '1', Linear '2') against HyperLab's mlp
    ('0', '1'): a LoRA adapter carries across once its keys and target names are mapped 2 → 1."""
    torch.manual_seed(1)
    seq = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 8))
    to_hl = {"0": "0", "2": "1"}
    base_file = tmp_path / "base.safetensors"
    save_file({f"{to_hl[k.split('.')[0]]}.{k.split('.')[1]}": v.contiguous() for k, v in seq.state_dict().items()}, str(base_file))
    x, x_file = make_input(tmp_path)
    model = get_peft_model(seq, LoraConfig(r=4, lora_alpha=8, target_modules=["0", "2"]))
    randomize_peft(model, seed=12)
    model.eval()
    with torch.no_grad():
        want = model(x).numpy()
    peft_dir = tmp_path / "seq"
    model.save_pretrained(str(peft_dir))
    # Rename: base_model.model.2.lora_A.weight → base_model.model.1.lora_A.weight; targets 0, 2 → 0, 1.
    mapped = tmp_path / "mapped"
    mapped.mkdir()
    tensors = load_file(str(peft_dir / "adapter_model.safetensors"))
    renamed = {}
    for key, value in tensors.items():
        parts = key.split(".")
        assert parts[:2] == ["base_model", "model"], key
        parts[2] = to_hl[parts[2]]
        renamed[".".join(parts)] = value
    save_file(renamed, str(mapped / "adapter_model.safetensors"))
    config = json.loads((peft_dir / "adapter_config.json").read_text())
    config["target_modules"] = sorted(to_hl[t] for t in config["target_modules"])
    (mapped / "adapter_config.json").write_text(json.dumps(config))
    got = node({"backend": "cpu", "sizes": SIZES, "from": "file", "base": str(base_file), "input": str(x_file), "load": str(mapped)}, tmp_path)
    assert_close(got["outputs"], want, "nn.Sequential LoRA via explicit name mapping")
