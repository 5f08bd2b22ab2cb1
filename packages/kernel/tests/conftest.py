"""Shared setup for the kernel's Python tests: isolate history and use the venv's kernelspec."""
import os
import tempfile

_history_dir = tempfile.mkdtemp(prefix="hyperlab-history-")
os.environ.setdefault("HYPERLAB_HISTORY_FILE", os.path.join(_history_dir, "history.jsonl"))
