"""Section 1: one optimizer step on 10^6 float64 parameters against the memory-bandwidth floor.

The floor of an update is the time to stream its arrays through memory once: ``np.copyto`` of one
array (one read + one write) times half the number of array passes the update needs when fused.
Columns: course_lib's ``opt.step`` (the code students read), a straightforward numpy version with
temporaries (the lecture's code pasted as is), numpy in place with ``out=`` (the best plain numpy
does) and PyTorch's ``foreach`` and ``fused`` implementations when torch is installed.
"""

from __future__ import annotations

import resource

import numpy as np

from benchmarks.timing import Spread, in_fresh_process, median_seconds, pin_threads

LR, RHO, DECAY, BETA1, BETA2, EPS = 1e-2, 0.9, 0.99, 0.9, 0.999, 1e-7
ADAM_LR = 1e-3

# Array reads + writes of a fused update that returns the new x: x, dx and each state array are read,
# the new x and each state array written. SGD: x, dx -> x (3); one state array: 5; Adam's two: 7.
PASSES = {"SGD": 3, "Momentum": 5, "Nesterov": 5, "AdaGrad": 5, "RMSProp": 5, "Adam": 7}
TARGET = ("Adam", 3.0)  # Adam within 3x its floor
# What-if for the profile: glibc keeps freed memory instead of returning it to the OS, so temporaries
# reuse pages that are already mapped (no page faults). Not a setting the course asks readers to use.
KEEP_MEMORY = {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**30)}
WHAT_IF = "course_lib, allocator keeps memory"


def _bias(beta, t):
    return 1 - beta**t


# The lecture's updates written plainly: every operation allocates a temporary array.
def _temporaries(name):
    def sgd(s, x, dx, t):
        return x - LR * dx

    def momentum(s, x, dx, t):
        s["velocity"] = RHO * s["velocity"] + dx
        return x - LR * s["velocity"]

    def nesterov(s, x, dx, t):
        old_velocity = s["velocity"]
        s["velocity"] = RHO * s["velocity"] - LR * dx
        return x - RHO * old_velocity + (1 + RHO) * s["velocity"]

    def adagrad(s, x, dx, t):
        s["grad_squared"] = s["grad_squared"] + dx * dx
        return x - LR * dx / (np.sqrt(s["grad_squared"]) + EPS)

    def rmsprop(s, x, dx, t):
        s["grad_squared"] = DECAY * s["grad_squared"] + (1 - DECAY) * dx * dx
        return x - LR * dx / (np.sqrt(s["grad_squared"]) + EPS)

    def adam(s, x, dx, t):
        s["first_moment"] = BETA1 * s["first_moment"] + (1 - BETA1) * dx
        s["second_moment"] = BETA2 * s["second_moment"] + (1 - BETA2) * dx * dx
        first_unbias = s["first_moment"] / _bias(BETA1, t)
        second_unbias = s["second_moment"] / _bias(BETA2, t)
        return x - ADAM_LR * first_unbias / (np.sqrt(second_unbias) + EPS)

    return {"SGD": sgd, "Momentum": momentum, "Nesterov": nesterov, "AdaGrad": adagrad,
            "RMSProp": rmsprop, "Adam": adam}[name]


# The same updates in place: preallocated state, one scratch array, x overwritten (as torch does).
def _in_place(name):
    def sgd(s, x, dx, t):
        x -= np.multiply(dx, LR, out=s["tmp"])
        return x

    def momentum(s, x, dx, t):
        v = s["velocity"]
        v *= RHO
        v += dx
        x -= np.multiply(v, LR, out=s["tmp"])
        return x

    def nesterov(s, x, dx, t):
        v, tmp = s["velocity"], s["tmp"]
        x -= np.multiply(v, RHO, out=tmp)
        v *= RHO
        v -= np.multiply(dx, LR, out=tmp)
        x += np.multiply(v, 1 + RHO, out=tmp)
        return x

    def scaled_step(s, x, dx, lr):  # x -= lr * dx / (sqrt(grad_squared) + eps)
        tmp = np.sqrt(s["grad_squared"], out=s["tmp"])
        tmp += EPS
        np.divide(dx, tmp, out=tmp)
        tmp *= lr
        x -= tmp
        return x

    def adagrad(s, x, dx, t):
        s["grad_squared"] += np.multiply(dx, dx, out=s["tmp"])
        return scaled_step(s, x, dx, LR)

    def rmsprop(s, x, dx, t):
        g2, tmp = s["grad_squared"], s["tmp"]
        g2 *= DECAY
        np.multiply(dx, dx, out=tmp)
        tmp *= 1 - DECAY
        g2 += tmp
        return scaled_step(s, x, dx, LR)

    def adam(s, x, dx, t):
        m, v, tmp = s["first_moment"], s["second_moment"], s["tmp"]
        m *= BETA1
        m += np.multiply(dx, 1 - BETA1, out=tmp)
        v *= BETA2
        np.multiply(dx, dx, out=tmp)
        tmp *= 1 - BETA2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp *= 1 / np.sqrt(_bias(BETA2, t))
        tmp += EPS
        np.divide(m, tmp, out=tmp)
        tmp *= ADAM_LR / _bias(BETA1, t)
        x -= tmp
        return x

    return {"SGD": sgd, "Momentum": momentum, "Nesterov": nesterov, "AdaGrad": adagrad,
            "RMSProp": rmsprop, "Adam": adam}[name]


def _torch_optimizer(name, param, mode):
    import torch

    flags = {"fused": True} if mode == "fused" else {"foreach": True}
    make = {
        "SGD": lambda: torch.optim.SGD([param], lr=LR, **flags),
        "Momentum": lambda: torch.optim.SGD([param], lr=LR, momentum=RHO, **flags),
        "Nesterov": lambda: torch.optim.SGD([param], lr=LR, momentum=RHO, nesterov=True, **flags),
        "AdaGrad": lambda: torch.optim.Adagrad([param], lr=LR, eps=EPS, **flags),
        "RMSProp": lambda: torch.optim.RMSprop([param], lr=LR, alpha=DECAY, eps=EPS, **flags),
        "Adam": lambda: torch.optim.Adam([param], lr=ADAM_LR, betas=(BETA1, BETA2), eps=EPS, **flags),
    }
    try:
        return make[name]()
    except (TypeError, RuntimeError, ValueError):  # this optimizer has no such implementation
        return None


def _page_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _timed_steps(step, steps):
    faults = _page_faults()
    seconds = median_seconds(step, steps, warmup=3)
    return {"step": seconds, "page_faults": (_page_faults() - faults) / (steps + 3)}


def measure(optimizer, implementations, size, steps, seed=0):
    """Median step time of each implementation, and of ``np.copyto`` (one process, one thread)."""
    pin_threads(1)
    rng = np.random.default_rng(seed)
    x0, dx = rng.standard_normal(size), rng.standard_normal(size)
    scratch = np.empty(size)
    results = {"copyto": median_seconds(lambda: np.copyto(scratch, x0), steps)}
    for implementation in implementations:
        if implementation in ("course_lib", WHAT_IF):
            from course_lib.optim import OPTIMIZERS

            opt, box = OPTIMIZERS[optimizer](), {"x": x0}

            def step(opt=opt, box=box):
                box["x"] = opt.step(box["x"], dx)
        elif implementation in ("numpy temporaries", "numpy in place"):
            state = {k: np.zeros(size) for k in ("velocity", "grad_squared", "first_moment", "second_moment")}
            state.update(tmp=np.empty(size), t=0)
            update = (_temporaries if implementation == "numpy temporaries" else _in_place)(optimizer)
            box = {"x": x0.copy()}

            def step(update=update, state=state, box=box):
                state["t"] += 1
                box["x"] = update(state, box["x"], dx, state["t"])
        else:
            import torch

            pin_threads(1)
            param = torch.nn.Parameter(torch.from_numpy(x0.copy()))
            param.grad = torch.from_numpy(dx.copy())
            opt = _torch_optimizer(optimizer, param, implementation.removeprefix("torch "))
            if opt is None:
                results[implementation] = None
                continue
            step = opt.step
        results[implementation] = _timed_steps(step, steps)
    return results


def adam_profile(size, steps):
    """Where an in-place numpy Adam step spends its time: each operation timed alone."""
    pin_threads(1)
    rng = np.random.default_rng(0)
    x, dx, m = rng.standard_normal(size), rng.standard_normal(size), rng.standard_normal(size)
    v, tmp = rng.random(size) + 0.5, np.empty(size)
    operations = {
        "np.copyto (one read + one write)": lambda: np.copyto(tmp, x),
        "m *= beta1": lambda: np.multiply(m, BETA1, out=m),
        "tmp = dx * c": lambda: np.multiply(dx, 1 - BETA1, out=tmp),
        "m += tmp": lambda: np.add(m, tmp, out=m),
        "tmp = dx * dx": lambda: np.multiply(dx, dx, out=tmp),
        "tmp = sqrt(v)": lambda: np.sqrt(v, out=tmp),
        "tmp = m / tmp": lambda: np.divide(m, v, out=tmp),
        "x -= tmp": lambda: np.subtract(x, tmp * 0, out=x),
    }
    return {name: median_seconds(f, steps) for name, f in operations.items()}


def _torch_available():
    from importlib.util import find_spec

    return find_spec("torch") is not None


def run(quick=False, repeats=3):
    """Measure every optimizer; return the report section (title, text, table rows)."""
    size, steps = (10**5, 10) if quick else (10**6, 30)
    numpy_columns = ["course_lib", "numpy temporaries", "numpy in place", WHAT_IF]
    torch_columns = ["torch foreach", "torch fused"] if _torch_available() and not quick else []
    if quick:
        repeats = 1
    rows, verdicts = [], []
    for name, passes in PASSES.items():
        floor_ratio = {c: Spread() for c in numpy_columns + torch_columns}
        course_vs_temporaries, floor_seconds, course_seconds, faults = Spread(), Spread(), Spread(), []
        for _ in range(repeats):
            plain = numpy_columns[:-1]
            groups = ([plain] if quick else [[c] for c in plain]) + [[WHAT_IF], torch_columns]
            result = {}
            for group in filter(None, groups):
                env = KEEP_MEMORY if group == [WHAT_IF] else None
                measured = in_fresh_process("optimizer_step", "measure", env=env, optimizer=name,
                                            implementations=group, size=size, steps=steps)
                # Each process's ratios use its own copyto: a paired measurement.
                floor = measured.pop("copyto") * passes / 2
                for column, value in measured.items():
                    if value is not None:
                        floor_ratio[column].values.append(value["step"] / floor)
                        result[column] = value
                if "course_lib" in group:
                    floor_seconds.values.append(floor)
            course = result["course_lib"]
            course_seconds.values.append(course["step"])
            faults.append(course["page_faults"])
            course_vs_temporaries.values.append(course["step"] / result["numpy temporaries"]["step"])
        rows.append([name, str(passes), floor_seconds.ms(), course_seconds.ms(),
                     *(floor_ratio[c].ratio(1) for c in numpy_columns + torch_columns),
                     course_vs_temporaries.ratio(), f"{np.median(faults):.0f}"])
        if name == TARGET[0]:
            adam_ratio = floor_ratio["course_lib"].median
            verdicts.append((f"Adam (course_lib) within {TARGET[1]:g}× its floor", adam_ratio <= TARGET[1],
                             f"{adam_ratio:.1f}× the floor"))
    header = ["optimizer", "array passes", "floor (ms)", "course_lib step (ms)",
              *(f"{c} / floor" for c in numpy_columns + torch_columns), "course_lib / numpy temporaries",
              "page faults per course_lib step"]
    profile = in_fresh_process("optimizer_step", "adam_profile", size=size, steps=steps)
    copy = profile["np.copyto (one read + one write)"]
    profile_rows = [[op, f"{1e3 * s:.3g}", f"{s / copy:.2f}×"] for op, s in profile.items()]
    why_not = "quick mode" if quick else "torch is not installed"
    torch_note = ("PyTorch: 1 intra-op thread, parameters as one float64 tensor; `—` where torch has no such "
                  "implementation." if torch_columns else f"PyTorch columns: not measured ({why_not}).")
    text = (
        f"{size:,} float64 parameters, default hyperparameters, median of {steps} steps per process, "
        f"each configuration in a fresh process, {repeats} process(es) per configuration; BLAS pinned to "
        "1 thread with threadpoolctl. Floor = `np.copyto` time (measured in the same process) × passes / 2. "
        f"Ratios: median (min–max) over processes. {torch_note} What-if column `{WHAT_IF}`: the same "
        "course_lib step in a process whose glibc keeps freed memory (`MALLOC_MMAP_THRESHOLD_`, "
        "`MALLOC_TRIM_THRESHOLD_`), so its temporaries cause no page faults."
    )
    return {
        "title": "1. Optimizer step time",
        "text": text,
        "header": header,
        "rows": rows,
        "verdicts": verdicts,
        "extra": [("Profile: an in-place numpy Adam step, operation by operation (ms, and × one `np.copyto`)",
                   ["operation", "ms", "× copyto"], profile_rows)],
    }
