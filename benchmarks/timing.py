"""Timing helpers shared by the benchmark sections: repeats, summaries, fresh processes, machine info.

Every claim in the report is a ratio of two times measured in the same run. A 2-core machine shared
with other jobs is noisy, so each figure is measured several times and reported as the median with
the spread (min–max) of the repeats.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULT_MARKER = "BENCHMARK-RESULT:"


def pin_threads(n=1):
    """Limit BLAS/OpenMP pools (and torch, when loaded) to ``n`` threads.

    Small dense problems run many times slower with two BLAS threads than with one on a shared
    2-core machine (8-16x slower, measured for the course's small problems), so every measurement
    runs with one thread.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def section(title, text, header=(), rows=(), verdicts=(), extra=()):
    """One report section: a title, a paragraph, a table (``header``, ``rows``), target verdicts
    ``(claim, met, measured)`` and extra tables ``(caption, header, rows)``."""
    return {"title": title, "text": text, "header": list(header), "rows": list(rows),
            "verdicts": list(verdicts), "extra": list(extra)}


def median_seconds(function, repeats, warmup=2):
    """Median wall time of ``function()`` over ``repeats`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


@dataclass
class Spread:
    """Median and min–max of repeated measurements of one quantity."""

    values: list = field(default_factory=list)

    @property
    def median(self):
        return float(np.median(self.values)) if self.values else float("nan")

    def _format(self, spec, scale=1.0, suffix=""):
        """Median (then min–max when repeated) in one format: the report's one shape for a spread."""
        if not self.values:
            return "—"
        text = f"{scale * self.median:{spec}}{suffix}"
        if len(self.values) > 1:
            text += f" ({scale * min(self.values):{spec}}–{scale * max(self.values):{spec}})"
        return text

    def ratio(self, digits=2):
        """``1.23× (1.10–1.40)``: the report's format for a ratio."""
        return self._format(f".{digits}f", suffix="×")

    def ms(self):
        """Median in milliseconds, with the spread, from values in seconds."""
        return self._format(".3g", scale=1e3)

    def seconds(self):
        return self._format(".2f")


def in_fresh_process(module, function, timeout=600, **kwargs):
    """Run ``benchmarks.<module>.<function>(**kwargs)`` in a new interpreter and return its result.

    Array-heavy configurations are timed in fresh processes: temporaries of one configuration
    leave the allocator and page tables in a state that changes the next one's timings.
    The result travels back as JSON on stdout after ``RESULT_MARKER``.
    """
    code = (
        "import json, sys\n"
        f"from benchmarks.{module} import {function} as f\n"
        f"print({RESULT_MARKER!r} + json.dumps(f(**json.loads(sys.argv[1]))))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER):])
    raise RuntimeError(f"benchmarks.{module}.{function}({kwargs}) failed:\n{completed.stderr[-2000:]}")


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit():
    completed = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                               text=True, check=False)
    return completed.stdout.strip() or "unknown"


def machine_info():
    """What the reader needs to judge the numbers: hardware, load, library versions, BLAS."""
    from threadpoolctl import threadpool_info

    blas = ", ".join(sorted({f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
                             for p in threadpool_info()})) or "none loaded"
    return {
        "date (UTC)": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "commit": _git_commit(),
        "CPU": f"{_cpu_model()}, {os.cpu_count()} logical cores",
        "memory": _memory_gib(),
        "load average at start (1/5/15 min)": " / ".join(f"{v:.2f}" for v in os.getloadavg()),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "numpy / scipy / matplotlib": " / ".join(_version(m) for m in ("numpy", "scipy", "matplotlib")),
        "torch": _version("torch"),
        "BLAS at start": blas,
    }
