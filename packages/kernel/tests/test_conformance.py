"""Jupyter protocol conformance of the HyperLab kernel, with jupyter_kernel_test's full suite.

Runs against the kernelspec named ``hyperlab`` installed in this Python's environment
(``npm run lab`` and ``scripts/test.sh`` install it with ``hyperlab-kernel install --sys-prefix``).
Every optional test of the suite is enabled by giving it a sample. The whole suite runs again
with CurveZMQ transport encryption (``transport_encryption='required'``), over the IPC transport,
and over IPC with encryption.
"""
import unittest

import jupyter_kernel_test
from kernel_launch import LaunchedWith


class HyperLabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "hyperlab"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("some error")'

    completion_samples = [
        {"text": "consol", "matches": {"console"}},
        {"text": "const zz = { alpha: 1, beta: 2 };\nzz.al", "matches": {"alpha"}},
        {"text": "Math.PI.toFix", "matches": {"toFixed"}},
    ]

    complete_code_samples = ["1 + 1", "const x = 3;", "function f() {\n  return 1;\n}", "%lsmagic"]
    incomplete_code_samples = ["function f() {", "const a = [1,", "if (x) {\n  y();", "`template ${"]
    invalid_code_samples = ["1 +* 2", "let = ;", ")"]

    code_page_something = "?console.log"

    code_generate_error = 'throw new Error("boom")'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "[1, 2, 3].map((n) => n * 2)", "result": "[ 2, 4, 6 ]"},
        {"code": "'typescript'.toUpperCase()", "result": "'TYPESCRIPT'"},
    ]

    code_display_data = [
        {"code": 'display.html("<b>bold</b>")', "mime": "text/html"},
        {"code": 'display.markdown("# title")', "mime": "text/markdown"},
        {"code": 'display.svg("<svg xmlns=\\"http://www.w3.org/2000/svg\\"></svg>")', "mime": "image/svg+xml"},
        {"code": "display({ a: 1 })", "mime": "text/plain"},
    ]

    code_history_pattern = "6 ?*7"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "console.log"

    code_clear_output = "clearOutput()"


class HyperLabIopubWelcomeTests(jupyter_kernel_test.IopubWelcomeTests):
    kernel_name = "hyperlab"
    support_iopub_welcome = True


class HyperLabKernelEncryptedTests(LaunchedWith, HyperLabKernelTests):
    transport_encryption = "required"


class HyperLabKernelIpcTests(LaunchedWith, HyperLabKernelTests):
    transport = "ipc"


class HyperLabKernelIpcEncryptedTests(LaunchedWith, HyperLabKernelTests):
    transport = "ipc"
    transport_encryption = "required"


class HyperLabIopubWelcomeEncryptedTests(LaunchedWith, HyperLabIopubWelcomeTests):
    transport_encryption = "required"
    ready = False


if __name__ == "__main__":
    unittest.main()
