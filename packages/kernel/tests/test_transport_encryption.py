"""CurveZMQ transport encryption with the venv's jupyter_client 8.10.

jupyter_client provisions a Z85 keypair into the connection file (``curve_publickey``,
``curve_secretkey``) when ``KernelManager.transport_encryption`` is ``'required'``, or ``'auto'``
and the kernelspec declares ``metadata.supported_encryption: ["curve"]``. The kernel must then make
every socket a Curve server: a client with the server key works as usual (the conformance suite
runs under it, see test_conformance.py); a client without it gets nothing, on any channel.
"""
import json
import re
import time
from queue import Empty

import pytest
import zmq
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager

from kernel_launch import KERNEL_NAME, start_kernel

pytestmark = pytest.mark.timeout(180)

Z85_KEY = re.compile(r"^[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}$")
SILENCE = 3.0


def _stream_text(kc, msg_id, timeout=30):
    """stdout of a request, collected from IOPub until its idle status; also the states seen."""
    text, states = "", []
    deadline = time.time() + timeout
    while time.time() < deadline:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            text += msg["content"]["text"]
        if msg["msg_type"] == "status":
            states.append(msg["content"]["execution_state"])
            if states[-1] == "idle":
                return text, states
    raise AssertionError(f"no idle status for {msg_id}; stdout so far {text!r}")


@pytest.fixture(scope="module")
def encrypted():
    km, kc = start_kernel(transport_encryption="required")
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def test_kernelspec_declares_curve_so_auto_provisions_keys():
    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    assert spec.metadata.get("supported_encryption") == ["curve"]
    km, kc = start_kernel(transport_encryption="auto")
    try:
        assert km._kernel_supports_curve_encryption()
        assert km.curve_publickey is not None, "'auto' did not provision keys for the hyperlab kernelspec"
        reply = kc.execute_interactive('console.log("auto")', timeout=60)
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_disabled_writes_no_keys_and_runs_unencrypted():
    km, kc = start_kernel(transport_encryption="disabled")
    try:
        with open(km.connection_file) as f:
            info = json.load(f)
        assert "curve_publickey" not in info and "curve_secretkey" not in info
        assert kc.execute_interactive("1 + 1", timeout=60)["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_required_writes_z85_keys_and_runs_cells(encrypted):
    km, kc = encrypted
    with open(km.connection_file) as f:
        info = json.load(f)
    assert Z85_KEY.match(info["curve_publickey"]) and Z85_KEY.match(info["curve_secretkey"])
    assert info["curve_publickey"].encode() == km.curve_publickey == kc.curve_publickey
    msg_id = kc.execute('const answer: number = 6 * 7;\nconsole.log(`answer ${answer}`)')
    assert kc.get_shell_msg(timeout=60)["content"]["status"] == "ok"
    text, states = _stream_text(kc, msg_id)
    assert text == "answer 42\n"
    assert states == ["busy", "idle"], "IOPub status of the request"
    assert kc.is_alive() and kc.hb_channel.is_beating()


def test_required_stdin_input(encrypted):
    _, kc = encrypted
    msg_id = kc.execute('const who = await input("name? ");\nconsole.log(`hi ${who}`)', allow_stdin=True)
    request = kc.get_stdin_msg(timeout=60)
    assert request["msg_type"] == "input_request" and request["content"]["prompt"] == "name? "
    kc.input("Ada")
    assert kc.get_shell_msg(timeout=60)["content"]["status"] == "ok"
    assert _stream_text(kc, msg_id)[0] == "hi Ada\n"


def test_required_interrupt_through_control_and_state_survives(encrypted):
    km, kc = encrypted
    kc.execute_interactive("let survivor = 'kept'", timeout=60)
    msg_id = kc.execute("while (true) {}")
    time.sleep(1.0)
    km.interrupt_kernel()  # interrupt_mode "message": an interrupt_request on the control socket
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    reply = kc.execute_interactive("console.log(survivor)", timeout=60)
    assert reply["content"]["status"] == "ok"


def _client_without_server_key(km, keys=None):
    """A client of the kernel's ports and HMAC key, with no Curve keys or with a stranger's pair."""
    info = km.get_connection_info()
    info.pop("curve_publickey", None)
    info.pop("curve_secretkey", None)
    kc = BlockingKernelClient()
    kc.load_connection_info(info)
    if keys:
        kc.curve_publickey, kc.curve_secretkey = keys
    kc.start_channels()
    return kc


@pytest.mark.parametrize("who", ["plain", "other-key"])
def test_a_client_without_the_server_key_cannot_execute(encrypted, who):
    km, kc = encrypted
    stranger = _client_without_server_key(km, zmq.curve_keypair() if who == "other-key" else None)
    try:
        assert stranger.curve_publickey != km.curve_publickey
        stranger.execute(f"globalThis.intruder = '{who}'; console.log('ran')")
        with pytest.raises(Empty):
            stranger.get_shell_msg(timeout=SILENCE)
        with pytest.raises(Empty):
            stranger.get_iopub_msg(timeout=0.5)
        assert not stranger.hb_channel.is_beating()
    finally:
        stranger.stop_channels()
    msg_id = kc.execute("console.log(typeof globalThis.intruder)")
    assert _stream_text(kc, msg_id)[0] == "undefined\n", "the stranger's code ran"
    assert kc.get_shell_msg(timeout=30)["content"]["status"] == "ok"


def test_a_plain_sub_socket_reads_nothing_while_the_kernel_publishes(encrypted):
    km, kc = encrypted
    ctx = zmq.Context.instance()
    sockets = []
    for keys in (None, zmq.curve_keypair()):
        sub = ctx.socket(zmq.SUB)
        sub.linger = 0
        if keys:  # a Curve client that trusts some other server
            sub.curve_publickey, sub.curve_secretkey = keys
            sub.curve_serverkey = zmq.curve_keypair()[0]
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(km._make_url("iopub"))
        sockets.append(sub)
    try:
        time.sleep(0.5)
        msg_id = kc.execute("for (let i = 0; i < 15; i++) { console.log(`secret ${i}`); await new Promise((r) => setTimeout(r, 100)); }")
        text, _ = _stream_text(kc, msg_id)
        assert "secret 14" in text, "the trusted client saw the output"
        poller = zmq.Poller()
        for sub in sockets:
            poller.register(sub, zmq.POLLIN)
        assert poller.poll(int(SILENCE * 1000)) == [], "an untrusted SUB socket received IOPub traffic"
    finally:
        for sub in sockets:
            sub.close()
