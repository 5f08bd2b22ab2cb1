"""Starting the ``hyperlab`` kernel through jupyter_client's KernelManager, as a Jupyter server does,
over a chosen transport (``tcp`` or ``ipc``) and transport-encryption policy (CurveZMQ:
``disabled``, ``auto`` or ``required``, jupyter_client 8.10's ``KernelManager.transport_encryption``).
"""
import os
import tempfile

from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.manager import KernelManager

KERNEL_NAME = "hyperlab"


def start_kernel(transport: str = "tcp", transport_encryption: str = "disabled", ready: bool = True,
                 timeout: float = 60) -> tuple[KernelManager, BlockingKernelClient]:
    """A started kernel and a client of it; with ``ready``, channels started and kernel_info answered.

    IPC endpoints live in a fresh private folder (jupyter_client's default, ``kernel-ipc`` in the
    working directory, would litter the checkout and collide between kernels).
    """
    kwargs = {}
    if transport == "ipc":
        kwargs["ip"] = os.path.join(tempfile.mkdtemp(prefix="hl-ipc-"), "kernel-ipc")
    km = KernelManager(kernel_name=KERNEL_NAME, transport=transport, **kwargs)
    km.start_kernel(transport_encryption=transport_encryption)
    kc = km.client()
    if ready:
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=timeout)
        except RuntimeError:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
            raise
    return km, kc


class LaunchedWith:
    """Mixin for jupyter_kernel_test suites: start the kernel with ``transport`` and ``transport_encryption``."""

    transport = "tcp"
    transport_encryption = "disabled"
    #: Whether setUpClass starts the channels and waits for kernel_info (KernelTests does, IopubWelcomeTests not).
    ready = True

    @classmethod
    def setUpClass(cls) -> None:
        cls.km, cls.kc = start_kernel(cls.transport, cls.transport_encryption, ready=cls.ready)
        if cls.transport_encryption == "required":
            assert cls.km.curve_publickey is not None, "no CurveZMQ keys were provisioned"
