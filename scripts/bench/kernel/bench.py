"""Startup and round-trip benchmark of Jupyter kernels, with one jupyter_client code path for all.

Run through run.sh (it installs tslab and points JUPYTER_PATH at its kernelspec). Prints Markdown
on stdout, progress on stderr.

Startup: wall time from KernelManager.start_kernel() to the first kernel_info_reply, one
unmeasured start per kernel first (warms the disk cache), then N measured starts round-robin
across the kernels (so noise on the shared machine spreads over all of them).

Round trip: one started kernel, a few warm-up cells, then R executions of the same trivial cell
(`1`), then R executions of a varying trivial cell (`1 + <i>`); each timed from sending
execute_request until both the execute_reply and the iopub `status: idle` of that request are in.

First cell: on the round-trip kernel, the first cell `1` right after kernel_info (and the iopub
check): when its result (execute_result, or display_data for a kernel that has no execute_result),
its execute_reply and its `idle` arrived, counted from its execute_request and from the kernel's
first kernel_info_reply.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

import zmq
from jupyter_client import KernelManager, __version__ as JUPYTER_CLIENT_VERSION
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

ROOT = Path(__file__).resolve().parents[3]

KERNELS = [
    # name, label, what to do when its kernelspec is missing
    ("hyperlab", "HyperLab", "run `bash scripts/setup-venv.sh` (after `npx tsc -b packages/kernel`)"),
    ("python3", "ipykernel", "run `bash scripts/setup-venv.sh` (ipykernel comes from scripts/requirements.txt)"),
    ("tslab", "tslab", "run this benchmark through `bash scripts/bench/kernel/run.sh`, which installs tslab"),
]
TS_KERNELS = {"hyperlab", "tslab"}
TYPE_PROBE = 'const __benchTypeProbe: number = "not a number";'


class BenchError(Exception):
    pass


@dataclass
class Result:
    name: str
    label: str
    startups: list[float] = field(default_factory=list)  # ms
    cold_start: float | None = None
    identical: list[float] = field(default_factory=list)  # ms
    varying: list[float] = field(default_factory=list)
    lost_idle: dict[str, int] = field(default_factory=lambda: {"trivial": 0, "varying": 0, "other": 0})
    # first cell: ms from its execute_request to its execute_result / reply / idle, and the
    # execute_result's ms after the first kernel_info_reply ("result_after_info")
    first: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stderr_logs: list[Path] = field(default_factory=list)


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def percentile(xs: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    s = sorted(xs)
    k = (len(s) - 1) * p / 100
    f = math.floor(k)
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)


# --- one kernel -------------------------------------------------------------------------------


class Session:
    """A started kernel with a blocking client; always close() it (shuts the kernel down)."""

    def __init__(self, name: str, cwd: str, stderr_path: Path, startup_timeout: float):
        self.name = name
        self.km: KernelManager | None = None
        self.kc = None
        self._stderr = open(stderr_path, "ab")
        self.startup_ms: float | None = None
        try:
            self._start(cwd, startup_timeout)
        except BaseException:
            self.close()
            raise

    def _start(self, cwd: str, timeout: float) -> None:
        self.km = KernelManager(kernel_name=self.name)
        self.km.kernel_spec  # raises NoSuchKernel before the clock starts
        t0 = self.t0 = time.perf_counter()
        self.km.start_kernel(cwd=cwd, stdout=self._stderr, stderr=self._stderr)
        self.kc = self.km.client()
        self.kc.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False)
        msg_id = self.kc.kernel_info()
        deadline = t0 + timeout
        resend_at = time.perf_counter() + 5.0
        while True:
            now = time.perf_counter()
            if now > deadline:
                raise BenchError(f"no kernel_info_reply within {timeout:.0f} s of start_kernel")
            if not self.km.is_alive():
                raise BenchError(f"kernel process exited (code {self._exit_code()}) before kernel_info_reply")
            try:
                msg = self.kc.get_shell_msg(timeout=min(0.5, max(0.0, deadline - now)))
            except Empty:
                if time.perf_counter() > resend_at:  # robustness only: a ZMQ DEALER queues until connected
                    msg_id = self.kc.kernel_info()
                    resend_at = time.perf_counter() + 5.0
                continue
            if msg["msg_type"] == "kernel_info_reply":
                self.info_at = time.perf_counter()
                self.startup_ms = (self.info_at - t0) * 1000
                self.kernel_info = msg["content"]
                return

    def _exit_code(self):
        try:
            proc = getattr(self.km.provisioner, "process", None)
            return proc.poll() if proc is not None else "?"
        except Exception:
            return "?"

    def wait_iopub(self, timeout: float) -> None:
        """Until iopub is subscribed: kernel_info_request and wait for its `idle` on iopub."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            msg_id = self.kc.kernel_info()
            got_reply = got_idle = False
            inner = min(deadline, time.perf_counter() + 0.2)  # a status sent before SUB was subscribed is lost
            while time.perf_counter() < inner and not (got_reply and got_idle):
                for m in self._drain(0.05):
                    if m["parent_header"].get("msg_id") != msg_id:
                        continue
                    if m["msg_type"] == "kernel_info_reply":
                        got_reply = True
                    elif m["msg_type"] == "status" and m["content"].get("execution_state") == "idle":
                        got_idle = True
            if got_idle:
                # let the reply of that request arrive too, if it has not
                if not got_reply:
                    self._drain(0.5)
                self._drain(0.01)  # and any late replies of earlier kernel_info_requests
                return
        raise BenchError(f"iopub never delivered a status message within {timeout:.0f} s")

    def _drain(self, timeout: float) -> list[dict]:
        out = []
        poller = zmq.Poller()
        poller.register(self.kc.shell_channel.socket, zmq.POLLIN)
        poller.register(self.kc.iopub_channel.socket, zmq.POLLIN)
        events = dict(poller.poll(int(timeout * 1000)))
        for sock, channel in ((self.kc.shell_channel.socket, self.kc.shell_channel), (self.kc.iopub_channel.socket, self.kc.iopub_channel)):
            if sock in events:
                while channel.msg_ready():
                    out.append(channel.get_msg(timeout=0))
        return out

    def run_cell(self, code: str, timeout: float, idle_grace: float = 2.0) -> tuple[float | None, list[dict]]:
        """Executes code; returns (ms until execute_reply and idle are both in, iopub messages).

        ms is None when the execute_reply came but the iopub `idle` of the request did not
        come within idle_grace seconds after it (a lost status message: counted, not timed).
        """
        shell, iopub = self.kc.shell_channel, self.kc.iopub_channel
        poller = zmq.Poller()
        poller.register(shell.socket, zmq.POLLIN)
        poller.register(iopub.socket, zmq.POLLIN)
        t0 = time.perf_counter()
        msg_id = self.kc.execute(code, silent=False, store_history=True, allow_stdin=False)
        deadline = t0 + timeout
        reply = None
        reply_at = 0.0
        result_at = None
        idle = False
        outputs: list[dict] = []
        while reply is None or not idle:
            now = time.perf_counter()
            if reply is not None and now > reply_at + idle_grace:
                self.last_reply = reply
                return None, outputs
            remaining = (min(deadline, reply_at + idle_grace) if reply is not None else deadline) - now
            if remaining <= 0 and reply is None:
                what = "execute_reply" if reply is None else "status idle"
                raise BenchError(f"no {what} within {timeout:.0f} s for cell {code!r}")
            events = dict(poller.poll(max(1, int(remaining * 1000))))
            if shell.socket in events:
                while shell.msg_ready():
                    m = shell.get_msg(timeout=0)
                    if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "execute_reply":
                        reply = m
                        reply_at = time.perf_counter()
            if iopub.socket in events:
                while iopub.msg_ready():
                    m = iopub.get_msg(timeout=0)
                    if m["parent_header"].get("msg_id") != msg_id:
                        continue
                    if m["msg_type"] == "status" and m["content"].get("execution_state") == "idle":
                        idle = True
                    else:
                        if m["msg_type"] in ("execute_result", "display_data") and result_at is None:
                            result_at = time.perf_counter()
                        outputs.append(m)
        done_at = time.perf_counter()
        ms = (done_at - t0) * 1000
        # when the execute_result, the reply and the idle came, in absolute perf_counter seconds
        self.last_marks = {"sent": t0, "result": result_at, "reply": reply_at, "idle": done_at}
        self.last_reply = reply
        return ms, outputs

    def close(self) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
        except Exception:
            pass
        try:
            if self.km is not None and self.km.has_kernel:
                self.km.shutdown_kernel(now=False)  # shutdown_request, then kill after shutdown_wait_time
        except Exception as e:  # noqa: BLE001
            log(f"{self.name}: graceful shutdown failed ({e}); killing")
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass
        finally:
            self._stderr.close()


# --- phases -----------------------------------------------------------------------------------


def check_specs(names: list[str], skip: dict[str, str]) -> dict[str, str]:
    """Kernel name -> problem, for kernels whose kernelspec cannot be used."""
    ksm = KernelSpecManager()
    problems = {}
    fixes = {n: fix for n, _label, fix in KERNELS}
    for name in names:
        fix = fixes.get(name, "install it, or drop it from --kernels")
        if name in skip:
            problems[name] = skip[name]
            continue
        try:
            spec = ksm.get_kernel_spec(name)
        except NoSuchKernel:
            problems[name] = f"kernelspec `{name}` not found; {fix}"
            continue
        argv0 = spec.argv[0] if spec.argv else ""
        if argv0 not in ("python", "python3") and not shutil.which(argv0):
            problems[name] = f"kernelspec `{name}` starts `{argv0}`, which does not exist; {fix}"
        if name == "hyperlab":
            script = next((a for a in spec.argv if a.endswith("cli.js")), None)
            if script and not Path(script).exists():
                problems[name] = f"kernelspec `hyperlab` points at {script}, which does not exist; build (`npx tsc -b packages/kernel`) and {fix}"
    return problems


def measure_startups(results: dict[str, Result], order: list[str], args, cwd: str, logdir: Path) -> None:
    def one(name: str) -> float:
        path = logdir / f"{name}.startup.stderr.log"
        if path not in results[name].stderr_logs:
            results[name].stderr_logs.append(path)
        s = Session(name, cwd, path, args.startup_timeout)
        try:
            return s.startup_ms
        finally:
            s.close()
            time.sleep(args.settle)

    for name in order:
        try:
            results[name].cold_start = one(name)
            log(f"startup {name}: unmeasured first start {results[name].cold_start:.0f} ms")
        except Exception as e:  # noqa: BLE001
            results[name].problems.append(f"startup failed: {e}")
            log(f"startup {name}: FAILED: {e}")
    for i in range(args.starts):
        for name in order:
            if results[name].problems:
                continue
            try:
                ms = one(name)
                results[name].startups.append(ms)
                log(f"startup {name} #{i + 1}: {ms:.0f} ms")
            except Exception as e:  # noqa: BLE001
                results[name].problems.append(f"startup #{i + 1} failed: {e}")
                log(f"startup {name} #{i + 1}: FAILED: {e}")


def measure_round_trips(result: Result, args, cwd: str, logdir: Path) -> None:
    name = result.name
    path = logdir / f"{name}.roundtrip.stderr.log"
    result.stderr_logs.append(path)
    s = Session(name, cwd, path, args.startup_timeout)
    try:
        s.wait_iopub(args.timeout)
        # idle may follow the reply by the language service's warm-up (HyperLab publishes the first
        # cell's type diagnostics, if any, before its idle): wait for it as long as for a reply
        first_ms, _ = s.run_cell("1", args.timeout, idle_grace=args.timeout)
        check_ok(s, "1")
        since_start = (time.perf_counter() - s.t0) * 1000
        if first_ms is not None:
            marks = s.last_marks
            result.first = {
                "reply": (marks["reply"] - marks["sent"]) * 1000,
                "idle": (marks["idle"] - marks["sent"]) * 1000,
                "idle_after_info": (marks["idle"] - s.info_at) * 1000,
            }
            if marks["result"] is not None:
                result.first["result"] = (marks["result"] - marks["sent"]) * 1000
                result.first["result_after_info"] = (marks["result"] - s.info_at) * 1000
        if first_ms is None:
            result.lost_idle["other"] += 1
            result.notes.append(f"first cell `1` after startup: idle lost (reply done {since_start:.0f} ms after start_kernel)")
        else:
            result.notes.append(f"first cell `1` (right after kernel_info and the iopub check) {first_ms:.0f} ms, done {since_start:.0f} ms after start_kernel")
        for i in range(args.warmup):
            for code in ("1", f"2 + {i}"):
                ms, _ = s.run_cell(code, args.timeout)
                check_ok(s, f"warm-up {code}")
                if ms is None:
                    result.lost_idle["other"] += 1
        gc.collect()
        gc.disable()
        try:
            for i in range(args.runs):
                ms, _ = s.run_cell("1", args.timeout)
                check_ok(s, "1")
                if ms is None:
                    result.lost_idle["trivial"] += 1
                else:
                    result.identical.append(ms)
            log(f"round trip {name}: identical p50 {statistics.median(result.identical):.2f} ms")
            for i in range(args.runs):
                ms, _ = s.run_cell(f"1 + {i}", args.timeout)
                check_ok(s, f"1 + {i}")
                if ms is None:
                    result.lost_idle["varying"] += 1
                else:
                    result.varying.append(ms)
            log(f"round trip {name}: varying p50 {statistics.median(result.varying):.2f} ms")
        finally:
            gc.enable()
        if name in TS_KERNELS:  # is a type error reported? (after the timed runs, so it cannot affect them)
            _ms, outputs = s.run_cell(TYPE_PROBE, args.timeout)
            status = s.last_reply["content"].get("status")
            c = s.last_reply["content"]
            texts = [m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream"]
            texts.append(" ".join(c.get("traceback") or []) + str(c.get("evalue", "")))
            texts += [" ".join(m["content"].get("traceback", [])) + m["content"].get("evalue", "") for m in outputs if m["msg_type"] == "error"]
            diag = next((t for t in texts if "TS2322" in t or "not assignable" in t), None)
            if diag is not None:
                result.notes.append(
                    f"type-check probe `{TYPE_PROBE}`: diagnostic reported ({'cell ran' if status == 'ok' else 'cell blocked, status ' + str(status)})"
                )
            else:
                result.notes.append(f"type-check probe `{TYPE_PROBE}`: NO type diagnostic seen (status {status})")
    finally:
        s.close()


def check_ok(s: Session, what: str) -> None:
    content = s.last_reply["content"]
    if content.get("status") != "ok":
        raise BenchError(f"cell {what!r} answered status {content.get('status')}: {content.get('ename')}: {content.get('evalue')}")


# --- report -----------------------------------------------------------------------------------


def cmd(*argv: str, cwd: Path = ROOT) -> str:
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def fmt(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def stderr_summary(paths: list[Path], limit: int = 8) -> list[str]:
    """Distinct lines (numbers ignored when comparing), each with its phase and how often it came."""
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    for p in paths:
        if not p.exists():
            continue
        phase = p.name.split(".")[1]  # startup | roundtrip
        for l in p.read_text(errors="replace").splitlines():
            if not l.strip():
                continue
            key = phase + re.sub(r"\d+", "#", l)[:160]
            counts[key] = counts.get(key, 0) + 1
            first.setdefault(key, f"({phase}) {l.rstrip()[:300]}")
    out = [f"{first[k]}{f'  [x{counts[k]}]' if counts[k] > 1 else ''}" for k in first]
    return out[:limit] + ([f"... ({len(out) - limit} more distinct lines)"] if len(out) > limit else [])


def report(results: dict[str, Result], order: list[str], args, started: dt.datetime, load_before: str) -> None:
    import ipykernel  # noqa: PLC0415 (only for its version)

    p = print
    head = cmd("git", "rev-parse", "--short", "HEAD")
    dirty = cmd("git", "status", "--porcelain", "--", "packages/kernel/src")
    ended = dt.datetime.now(dt.timezone.utc)
    p("## Kernel startup and round trip")
    p()
    p(f"- date: {started:%Y-%m-%d %H:%M} UTC (run took {(ended - started).total_seconds() / 60:.1f} min)")
    p(f"- machine: nproc {os.cpu_count()} ({cpu_model()}), {platform.system()} {platform.release()}; "
      f"load average before {load_before}, after {loadavg()}")
    p(f"- node {args.node_version}, Python {platform.python_version()}, jupyter_client {JUPYTER_CLIENT_VERSION}, "
      f"ipykernel {ipykernel.__version__}, tslab {args.tslab_version}, "
      f"HyperLab {head or '?'}{' + uncommitted changes in packages/kernel/src' if dirty else ''}")
    p("- HyperLab type checking: **on**, `warn` mode (the default; HYPERLAB_TYPECHECK unset for the kernels)")
    p(f"- startup: `KernelManager.start_kernel()` until the first `kernel_info_reply`; 1 unmeasured start, then "
      f"{args.starts} measured starts per kernel, round-robin across kernels")
    p(f"- round trip: one kernel, {args.warmup * 2} warm-up cells, then {args.runs}× `1` (trivial) and {args.runs}× "
      f"`1 + <i>` (varying); send `execute_request` → `execute_reply` and iopub `idle` both received; "
      f"p50/p95 by linear interpolation")
    p()
    p("| kernel | startup median (ms) | min | max | trivial p50 (ms) | p95 | varying p50 | p95 |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    stats: dict[str, dict[str, float | None]] = {}
    footnotes = []
    for name in order:
        r = results[name]
        # a row counts only if all its runs were made (lost idles are runs made, but not timed)
        ident_ok = bool(r.identical) and len(r.identical) + r.lost_idle["trivial"] == args.runs
        vary_ok = bool(r.varying) and len(r.varying) + r.lost_idle["varying"] == args.runs
        st = {
            "start": statistics.median(r.startups) if r.startups else None,
            "min": min(r.startups) if r.startups else None,
            "max": max(r.startups) if r.startups else None,
            "p50": percentile(r.identical, 50) if ident_ok else None,
            "p95": percentile(r.identical, 95) if ident_ok else None,
            "v50": percentile(r.varying, 50) if vary_ok else None,
            "v95": percentile(r.varying, 95) if vary_ok else None,
        }
        stats[name] = st
        mark_t = "*" if ident_ok and r.lost_idle["trivial"] else ""
        mark_v = "*" if vary_ok and r.lost_idle["varying"] else ""
        p(f"| {r.label} (`{name}`) | {fmt(st['start'], 0)} | {fmt(st['min'], 0)} | {fmt(st['max'], 0)} | "
          f"{fmt(st['p50'], 2)}{mark_t} | {fmt(st['p95'], 2)}{mark_t} | {fmt(st['v50'], 2)}{mark_v} | {fmt(st['v95'], 2)}{mark_v} |")
        if any(r.lost_idle.values()):
            footnotes.append(
                f"\\* {r.label}: the iopub `status: idle` never came (waited 2 s after the execute_reply) for "
                f"{r.lost_idle['trivial']} of {args.runs} trivial and {r.lost_idle['varying']} of {args.runs} varying "
                f"executions (+{r.lost_idle['other']} of the warm-up cells); those runs are left out of its percentiles."
            )
    p()
    for f in footnotes:
        p(f)
        p()

    p("First cell `1` on the round-trip kernel, sent right after kernel_info (and the iopub check), in ms "
      "from its `execute_request` and from the kernel's first `kernel_info_reply`:")
    p()
    p("| kernel | execute_result | execute_reply | idle | result after kernel_info_reply | idle after kernel_info_reply |")
    p("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in order:
        f = results[name].first
        p(f"| {results[name].label} (`{name}`) | {fmt(f.get('result'), 0)} | {fmt(f.get('reply'), 0)} | {fmt(f.get('idle'), 0)} | "
          f"{fmt(f.get('result_after_info'), 0)} | {fmt(f.get('idle_after_info'), 0)} |")
    p()

    base = stats.get("python3")
    if base:
        p("Ratios against ipykernel (>1 = slower than ipykernel):")
        p()
        p("| ratio | startup median | trivial p50 | varying p50 |")
        p("| --- | ---: | ---: | ---: |")
        for name in order:
            if name == "python3":
                continue
            st = stats[name]

            def ratio(key: str) -> str:
                a, b = st[key], base[key]
                return "n/a" if a is None or not b else f"{a / b:.2f}×"

            p(f"| {results[name].label} / ipykernel | {ratio('start')} | {ratio('p50')} | {ratio('v50')} |")
        p()

    p("Targets:")
    p()
    hl = stats.get("hyperlab", {})

    def verdict(value: float | None, limit: float | None, unit: str = "ms", digits: int = 0) -> str:
        if value is None or limit is None:
            return "not measured"
        if value <= limit:
            return f"**met** ({value:.{digits}f} {unit} ≤ {limit:.{digits}f} {unit})"
        return f"**missed** by {value - limit:.{digits}f} {unit} ({value:.{digits}f} vs {limit:.{digits}f} {unit}, {value / limit:.2f}×)"

    p(f"- HyperLab startup median ≤ 1000 ms: {verdict(hl.get('start'), 1000.0)}")
    p(f"- HyperLab trivial p50 ≤ ipykernel trivial p50: {verdict(hl.get('p50'), base.get('p50') if base else None, digits=2)}")
    p(f"- HyperLab varying p50 ≤ ipykernel varying p50: "
      f"{verdict(hl.get('v50'), base.get('v50') if base else None, digits=2)}")
    p(f"- HyperLab first cell's result ≤ 300 ms after kernel_info_reply: "
      f"{verdict(results['hyperlab'].first.get('result_after_info') if 'hyperlab' in results else None, 300.0)}")
    p()

    p("Notes:")
    p()
    for note in args.note or []:
        p(f"- {note}")
    for name in order:
        r = results[name]
        bits = []
        if r.cold_start is not None:
            bits.append(f"unmeasured first start {r.cold_start:.0f} ms")
        for series, label in ((r.identical, "trivial"), (r.varying, "varying")):
            if len(series) >= 100:
                q = len(series) // 4
                bits.append(f"{label} p50 first {q} runs {percentile(series[:q], 50):.2f} ms, last {q} {percentile(series[-q:], 50):.2f} ms, max {max(series):.1f} ms")
        bits += r.notes
        if bits:
            p(f"- {r.label}: " + "; ".join(bits))
        for problem in r.problems:
            p(f"- **{r.label} not (fully) measured**: {problem}")
    p()
    p("Kernel stderr (distinct lines, first few per kernel):")
    p()
    for name in order:
        lines = stderr_summary(results[name].stderr_logs)
        if lines:
            p(f"- {results[name].label}:")
            p("  ```")
            for l in lines:
                p(f"  {l}")
            p("  ```")
        else:
            p(f"- {results[name].label}: (empty)")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", default="hyperlab,python3,tslab", help="comma-separated kernelspec names")
    ap.add_argument("--starts", type=int, default=5, help="measured fresh starts per kernel")
    ap.add_argument("--runs", type=int, default=200, help="timed executions per row")
    ap.add_argument("--warmup", type=int, default=5, help="warm-up pairs (`1`, `2 + i`) before timing")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds for any one reply")
    ap.add_argument("--startup-timeout", type=float, default=60.0, help="seconds for kernel_info_reply after start")
    ap.add_argument("--settle", type=float, default=0.5, help="seconds of pause after each shutdown")
    ap.add_argument("--quick", action="store_true", help="smoke test: 1 start, 20 runs")
    ap.add_argument("--skip", action="append", default=[], metavar="NAME=REASON", help="report NAME as not run, with REASON")
    ap.add_argument("--note", action="append", default=[], help="extra note for the report")
    ap.add_argument("--node-version", default=cmd("node", "--version") or "?")
    ap.add_argument("--tslab-version", default="?")
    args = ap.parse_args()
    if args.quick:
        args.starts, args.runs, args.warmup = 1, 20, 2

    started = dt.datetime.now(dt.timezone.utc)
    load_before = loadavg()
    if os.environ.pop("HYPERLAB_TYPECHECK", None) is not None:
        args.note.append("HYPERLAB_TYPECHECK was set in the environment; unset for this run")
    names = [n.strip() for n in args.kernels.split(",") if n.strip()]
    labels = {n: l for n, l, _ in KERNELS}
    skip = dict(s.split("=", 1) for s in args.skip)
    results = {n: Result(n, labels.get(n, n)) for n in names}
    for name, problem in check_specs(names, skip).items():
        results[name].problems.append(problem)
        log(f"{name}: not measured: {problem}")
    runnable = [n for n in names if not results[n].problems]

    cwd = tempfile.mkdtemp(prefix="kernel-bench-cwd-")  # neutral notebook folder (no tsconfig.json)
    logdir = Path(tempfile.mkdtemp(prefix="kernel-bench-logs-"))
    try:
        measure_startups(results, runnable, args, cwd, logdir)
        for name in runnable:
            if results[name].problems:
                continue
            try:
                measure_round_trips(results[name], args, cwd, logdir)
            except Exception as e:  # noqa: BLE001
                results[name].problems.append(f"round trip failed: {e}")
                log(f"round trip {name}: FAILED: {e}\n{traceback.format_exc()}")
            time.sleep(args.settle)
        report(results, names, args, started, load_before)
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
        shutil.rmtree(logdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
