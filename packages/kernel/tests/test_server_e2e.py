"""End to end through a real Jupyter server, as JupyterLab drives a kernel.

Starts ``jupyter server`` from the venv, starts the ``hyperlab`` kernel through the REST API,
executes cells over the kernel's WebSocket channel, interrupts and restarts it through REST, and
checks what comes back, message by message.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
import requests
import websocket

TOKEN = uuid.uuid4().hex


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_server(*options: str, env=None):
    """A ``jupyter server`` on a free port with extra command-line options; yields its base URL."""
    port = _free_port()
    root = tempfile.mkdtemp(prefix="hl-server-")
    jupyter = os.path.join(os.path.dirname(sys.executable), "jupyter")
    proc = subprocess.Popen(
        [jupyter, "server", "--no-browser", f"--port={port}", "--ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False", "--allow-root", *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(f"{base}/api/status", headers=_auth(), timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("jupyter server did not start:\n" + proc.stdout.read().decode())
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server():
    yield from _run_server()


def _auth():
    return {"Authorization": f"token {TOKEN}"}


class Channel:
    """The kernel's WebSocket, speaking the JSON form of the messaging protocol."""

    def __init__(self, base: str, kernel_id: str):
        url = base.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels?token={TOKEN}"
        self.ws = websocket.create_connection(url, timeout=60)
        self.session = uuid.uuid4().hex

    def send(self, channel: str, msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": self.session, "msg_type": msg_type, "version": "5.3",
                       "date": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())},
            "parent_header": {}, "metadata": {}, "content": content, "channel": channel, "buffers": [],
        }))
        return msg_id

    def collect(self, msg_id: str, timeout: float = 60):
        """Messages answering msg_id, until both its reply and its idle status arrived."""
        reply, messages, idle = None, [], False
        deadline = time.time() + timeout
        while (reply is None or not idle) and time.time() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["channel"] in ("shell", "control"):
                reply = msg
            elif msg["channel"] == "iopub":
                messages.append(msg)
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
        assert reply is not None and idle, f"no reply/idle for {msg_id}"
        return reply, messages

    def execute(self, code: str, timeout: float = 60):
        msg_id = self.send("shell", "execute_request", {"code": code, "silent": False, "store_history": True,
                                                         "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        return self.collect(msg_id, timeout)

    def close(self):
        self.ws.close()


def _start_kernel(base: str) -> str:
    r = requests.post(f"{base}/api/kernels", json={"name": "hyperlab"}, headers=_auth(), timeout=30)
    r.raise_for_status()
    return r.json()["id"]


def _result(messages):
    for m in messages:
        if m["msg_type"] == "execute_result":
            return m["content"]["data"]["text/plain"]
    return None


def test_kernelspec_is_listed(server):
    specs = requests.get(f"{server}/api/kernelspecs", headers=_auth(), timeout=10).json()["kernelspecs"]
    spec = specs["hyperlab"]["spec"]
    assert spec["display_name"] == "TypeScript (HyperLab)"
    assert spec["language"] == "typescript"
    assert spec["interrupt_mode"] == "message"
    assert "{connection_file}" in spec["argv"]
    assert set(specs["hyperlab"]["resources"]) >= {"logo-32x32", "logo-64x64", "logo-svg"}


def test_execute_interrupt_restart_through_the_server(server):
    kernel_id = _start_kernel(server)
    ch = Channel(server, kernel_id)
    try:
        reply, messages = ch.execute('const greeting: string = "hello";\nconsole.log(greeting);\ndisplay.markdown("**md**");\ngreeting.length')
        assert reply["content"]["status"] == "ok"
        kinds = [m["msg_type"] for m in messages]
        assert kinds[0] == "status" and "execute_input" in kinds
        assert "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream") == "hello\n"
        assert any(m["msg_type"] == "display_data" and m["content"]["data"]["text/markdown"] == "**md**" for m in messages)
        assert _result(messages) == "5"

        # Interrupt a busy loop through the REST API (interrupt_mode "message": a control request).
        loop_id = ch.send("shell", "execute_request", {"code": "while (true) {}", "silent": False, "store_history": True,
                                                       "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        time.sleep(1.0)
        assert requests.post(f"{server}/api/kernels/{kernel_id}/interrupt", headers=_auth(), timeout=10).status_code == 204
        reply, _ = ch.collect(loop_id)
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        _, messages = ch.execute("greeting")
        assert _result(messages) == "'hello'", "state survives an interrupt"

        # Restart: a fresh kernel, so the variable is gone.
        assert requests.post(f"{server}/api/kernels/{kernel_id}/restart", headers=_auth(), timeout=60).ok
        ch.close()
        ch = Channel(server, kernel_id)
        reply, messages = ch.execute("typeof greeting")
        assert reply["content"]["status"] == "ok"
        assert _result(messages) == "'undefined'"
        assert reply["content"]["execution_count"] == 1
    finally:
        ch.close()
        requests.delete(f"{server}/api/kernels/{kernel_id}", headers=_auth(), timeout=30)
    assert kernel_id not in [k["id"] for k in requests.get(f"{server}/api/kernels", headers=_auth(), timeout=10).json()]


def test_transport_encryption_required_through_the_server():
    """What a user turns on: ``jupyter lab --MappingKernelManager.transport_encryption=required``."""
    runtime = tempfile.mkdtemp(prefix="hl-runtime-")
    servers = _run_server("--MappingKernelManager.transport_encryption=required", env=dict(os.environ, JUPYTER_RUNTIME_DIR=runtime))
    base = next(servers)
    try:
        kernel_id = _start_kernel(base)
        with open(os.path.join(runtime, f"kernel-{kernel_id}.json")) as f:
            info = json.load(f)
        assert len(info["curve_publickey"]) == 40 and len(info["curve_secretkey"]) == 40
        ch = Channel(base, kernel_id)
        try:
            reply, messages = ch.execute('console.log("over curve");\n6 * 7')
            assert reply["content"]["status"] == "ok"
            assert "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream") == "over curve\n"
            assert _result(messages) == "42"
        finally:
            ch.close()
        requests.delete(f"{base}/api/kernels/{kernel_id}", headers=_auth(), timeout=30)
    finally:
        servers.close()
