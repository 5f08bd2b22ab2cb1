"""Safetensors interop between HyperLab (TypeScript, packages/core/dist/io/safetensors.js) and
Python's reference `safetensors` library: files written by either side are read exactly by the
other, and HyperLab's bytes equal Python's for the same tensors.

Needs a build (`npx tsc -b packages/core`) and Node on PATH; the Node side is tests/safetensors_node.js.
"""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save, save_file

CORE = Path(__file__).resolve().parents[1]
HELPER = Path(__file__).with_name("safetensors_node.js")
BUILT = CORE / "dist" / "io" / "safetensors.js"


def node(command, file, check=True):
    if not BUILT.exists():
        pytest.fail(f"{BUILT} is missing: build first (npx tsc -b packages/core)")
    result = subprocess.run(
        ["node", str(HELPER), command, str(file)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CORE,
    )
    if check and result.returncode != 0:
        pytest.fail(f"node {command} failed ({result.returncode}): {result.stderr}")
    return result


def as_numpy(entry):
    """A tensor printed by the helper, as the numpy array it stands for (floats from their bits)."""
    shape = tuple(entry["shape"])
    if entry["dtype"] == "float32":
        return np.array(entry["values"], dtype=np.uint32).view(np.float32).reshape(shape)
    if entry["dtype"] == "int32":
        return np.array(entry["values"], dtype=np.int32).reshape(shape)
    if entry["dtype"] == "bool":
        return np.array(entry["values"], dtype=np.uint8).astype(bool).reshape(shape)
    raise AssertionError(f"unexpected dtype {entry['dtype']}")


def assert_exact(actual, expected, name):
    assert actual.dtype == expected.dtype, f"{name}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    if actual.dtype.kind == "f":
        # Same bits, up to the NaN payload (compared as NaN).
        nan = np.isnan(expected)
        assert np.array_equal(np.isnan(actual), nan), f"{name}: NaN positions differ"
        a, e = actual[~nan], expected[~nan]
        assert np.array_equal(a.view(np.uint32 if a.itemsize == 4 else np.uint16), e.view(np.uint32 if e.itemsize == 4 else np.uint16)), f"{name}: values differ"
    else:
        assert np.array_equal(actual, expected), f"{name}: values differ"


def test_hyperlab_file_is_read_by_python_exactly(tmp_path):
    file = tmp_path / "from_hyperlab.safetensors"
    written = json.loads(node("write", file).stdout)
    loaded = load_file(str(file))
    assert sorted(loaded) == sorted(written["tensors"])
    for name, entry in written["tensors"].items():
        assert_exact(loaded[name], as_numpy(entry), name)
    assert loaded["token_ids"].dtype == np.int32
    assert loaded["mask"].dtype == np.bool_
    assert np.signbit(loaded["encoder.0.weight"].reshape(-1)[1]), "-0 keeps its sign"
    with safe_open(str(file), framework="numpy") as f:
        assert f.metadata() == written["metadata"]


def test_hyperlab_bytes_equal_python_bytes(tmp_path):
    file = tmp_path / "from_hyperlab.safetensors"
    written = json.loads(node("write", file).stdout)
    arrays = {name: as_numpy(entry) for name, entry in written["tensors"].items()}
    assert file.read_bytes() == save(arrays, metadata=written["metadata"])


def test_python_file_is_read_by_hyperlab_exactly(tmp_path):
    rng = np.random.default_rng(7)
    f16 = np.array([1, -2, 65504, 2**-24, 2**-14, np.inf, -np.inf, -0.0, 0.333, np.nan], dtype=np.float16)
    arrays = {
        "dense.weight": rng.standard_normal((3, 4)).astype(np.float32),
        "dense.bias": np.array([0.0, -0.0, 1e-45, np.float32(3.4028235e38)], dtype=np.float32),
        "counts": np.array([[0, 1, -1], [2**31 - 1, -(2**31), 7]], dtype=np.int32),
        "half": np.concatenate([f16, rng.standard_normal(22).astype(np.float16)]).reshape(4, 8),
        "steps": np.array([0, 1, -5, 2**31 - 1, -(2**31)], dtype=np.int64),
        "wide": np.array([0.1, 1 / 3, -2.5], dtype=np.float64),
        "small": np.array([-128, 127], dtype=np.int8),
        "pixels": np.array([0, 128, 255], dtype=np.uint8),
        "flags": np.array([True, False, True]),
        "scalar": np.array(2.5, dtype=np.float32),
    }
    file = tmp_path / "from_python.safetensors"
    save_file(arrays, str(file), metadata={"source": "numpy", "epoch": "3"})
    read = json.loads(node("read", file).stdout)
    assert read["metadata"] == {"source": "numpy", "epoch": "3"}
    assert sorted(read["tensors"]) == sorted(arrays)
    # What HyperLab holds: float16/float64 as float32, the integer types as int32.
    expected_types = {"f": np.float32, "i": np.int32, "u": np.int32, "b": np.bool_}
    for name, array in arrays.items():
        want = array.astype(expected_types[array.dtype.kind])
        assert_exact(as_numpy(read["tensors"][name]), want, name)


@pytest.mark.parametrize("value", [2**53 + 1, -(2**62), 2**31])
def test_int64_out_of_int32_range_is_rejected_naming_the_tensor(tmp_path, value):
    file = tmp_path / "big.safetensors"
    save_file({"ok": np.zeros(2, np.float32), "global_step": np.array([1, value], dtype=np.int64)}, str(file))
    result = node("read", file, check=False)
    assert result.returncode == 1
    assert '"global_step"' in result.stderr
    assert f"I64 value {value} at index 1" in result.stderr
    if abs(value) > 2**53:
        assert "beyond 2^53" in result.stderr
