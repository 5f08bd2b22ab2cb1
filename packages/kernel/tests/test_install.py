"""`hyperlab-kernel install` writes a kernelspec that `jupyter kernelspec list` shows."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

CLI = pathlib.Path(__file__).resolve().parents[1] / "dist" / "cli.js"
JUPYTER = os.path.join(os.path.dirname(sys.executable), "jupyter")


def _specs(env):
    out = subprocess.run([JUPYTER, "kernelspec", "list", "--json"], env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["kernelspecs"]


def test_install_prefix_and_name_are_listed():
    prefix = tempfile.mkdtemp(prefix="hl-prefix-")
    subprocess.run(["node", str(CLI), "install", "--prefix", prefix, "--name", "hyperlab-test"], check=True)
    spec_dir = pathlib.Path(prefix, "share", "jupyter", "kernels", "hyperlab-test")
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec["display_name"] == "TypeScript (HyperLab)"
    assert spec["language"] == "typescript"
    assert spec["argv"][-2:] == ["run", "{connection_file}"]
    assert spec["metadata"]["supported_encryption"] == ["curve"], "jupyter_client's transport_encryption='auto' looks for it"
    assert {"logo-32x32.png", "logo-64x64.png", "logo-svg.svg"} <= {p.name for p in spec_dir.iterdir()}
    env = dict(os.environ, JUPYTER_PATH=str(pathlib.Path(prefix, "share", "jupyter")))
    assert pathlib.Path(_specs(env)["hyperlab-test"]["resource_dir"]) == spec_dir


def test_install_user_honours_jupyter_data_dir():
    data = tempfile.mkdtemp(prefix="hl-data-")
    env = dict(os.environ, JUPYTER_DATA_DIR=data)
    subprocess.run(["node", str(CLI), "install", "--user", "--name", "hyperlab-user"], check=True, env=env)
    assert pathlib.Path(_specs(env)["hyperlab-user"]["resource_dir"]) == pathlib.Path(data, "kernels", "hyperlab-user")


def test_bad_options_fail_with_a_message():
    result = subprocess.run(["node", str(CLI), "install", "--name", "bad name!"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "a kernelspec name may use letters" in result.stderr
    result = subprocess.run(["node", str(CLI), "install", "--frobnicate"], capture_output=True, text=True)
    assert result.returncode == 2 and "unknown option --frobnicate" in result.stderr
