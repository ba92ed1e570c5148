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
        if implementation == "course_lib":
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


def measure_many(optimizers, implementations, size, steps):
    """``measure`` for several optimizers in one process."""
    return {name: measure(name, implementations, size, steps) for name in optimizers}


def adam_profile(size, steps):
    """Where an in-place numpy Adam step spends its time: each of its operations timed alone."""
    pin_threads(1)
    rng = np.random.default_rng(0)
    x, dx, m = rng.standard_normal(size), rng.standard_normal(size), rng.standard_normal(size)
    v, tmp, out = rng.random(size) + 0.5, np.empty(size), np.empty(size)
    operations = {  # the lines of _in_place("Adam"), on arrays that stay finite when repeated
        "m *= beta1": lambda: np.multiply(m, BETA1, out=m),
        "tmp = dx * (1 - beta1)": lambda: np.multiply(dx, 1 - BETA1, out=tmp),
        "m += tmp": lambda: np.add(m, tmp, out=m),
        "v *= beta2": lambda: np.multiply(v, BETA2, out=v),
        "tmp = dx * dx": lambda: np.multiply(dx, dx, out=tmp),
        "tmp *= 1 - beta2": lambda: np.multiply(tmp, 1 - BETA2, out=tmp),
        "v += tmp": lambda: np.add(v, tmp, out=v),
        "tmp = sqrt(v)": lambda: np.sqrt(v, out=tmp),
        "tmp *= 1 / sqrt(1 - beta2^t)": lambda: np.multiply(tmp, 1.0, out=tmp),
        "tmp += eps": lambda: np.add(tmp, EPS, out=tmp),
        "tmp = m / tmp": lambda: np.divide(m, tmp, out=out),
        "tmp *= lr / (1 - beta1^t)": lambda: np.multiply(out, 1.0, out=out),
        "x -= tmp": lambda: np.subtract(x, out, out=tmp),
    }
    times = {name: median_seconds(f, steps) for name, f in operations.items()}
    return {"copyto": median_seconds(lambda: np.copyto(tmp, x), steps), "operations": times}


def _torch_available():
    from importlib.util import find_spec

    return find_spec("torch") is not None


def _process_plan(quick, torch_columns):
    """(columns, all optimizers in one process?) for the fresh processes of one repeat.

    Each numpy configuration gets its own process (its temporaries must not warm the allocator for
    the next); torch keeps its own allocator, so one process measures it for every optimizer.
    """
    plain = ["course_lib", "numpy temporaries", "numpy in place"]
    plan = [(plain, True)] if quick else [([c], False) for c in plain]
    if torch_columns:
        plan.append((torch_columns, True))
    return plan


def _measure_repeat(plan, size, steps):
    """One repeat of every process in the plan: {optimizer: {column: {step, page_faults, ratio}}}."""
    results = {name: {} for name in PASSES}
    for columns, together in plan:
        for batch in [list(PASSES)] if together else [[name] for name in PASSES]:
            measured = in_fresh_process("optimizer_step", "measure_many", optimizers=batch,
                                        implementations=columns, size=size, steps=steps)
            for name, values in measured.items():
                # Each process's ratios use its own copyto: a paired measurement.
                floor = values.pop("copyto") * PASSES[name] / 2
                if "course_lib" in columns:
                    results[name]["floor"] = floor
                for column, value in values.items():
                    if value is not None:
                        results[name][column] = {**value, "ratio": value["step"] / floor}
    return results


def run(quick=False, repeats=3):
    """Measure every optimizer; return the report section (title, text, table rows)."""
    size, steps = (10**5, 10) if quick else (10**6, 30)
    repeats = 1 if quick else repeats
    torch_columns = ["torch foreach", "torch fused"] if _torch_available() and not quick else []
    columns = ["course_lib", "numpy temporaries", "numpy in place", *torch_columns]
    plan = _process_plan(quick, torch_columns)
    repeated = [_measure_repeat(plan, size, steps) for _ in range(repeats)]
    rows, verdicts = [], []
    for name, passes in PASSES.items():
        runs = [r[name] for r in repeated]
        ratio = {c: Spread([r[c]["ratio"] for r in runs if c in r]) for c in columns}
        steps_of = {c: [r[c]["step"] for r in runs] for c in ("course_lib", "numpy temporaries")}
        course_vs_temporaries = Spread([a / b for a, b in zip(*steps_of.values(), strict=True)])
        faults = np.median([r["course_lib"]["page_faults"] for r in runs])
        rows.append([name, str(passes), Spread([r["floor"] for r in runs]).ms(),
                     Spread([r["course_lib"]["step"] for r in runs]).ms(),
                     *(ratio[c].ratio(1) for c in columns), course_vs_temporaries.ratio(), f"{faults:.0f}"])
        if name == TARGET[0]:
            adam, fused = ratio["course_lib"].median, ratio.get("torch fused", Spread())
            verdicts.append((f"Adam (course_lib) within {TARGET[1]:g}× its floor", adam <= TARGET[1],
                             f"{adam:.1f}× the floor"))
    header = ["optimizer", "array passes", "floor (ms)", "course_lib step (ms)",
              *(f"{c} / floor" for c in columns), "course_lib / numpy temporaries",
              "page faults per course_lib step"]
    profile = in_fresh_process("optimizer_step", "adam_profile", size=size, steps=steps)
    copy, operations = profile["copyto"], profile["operations"]
    adam_floor = copy * PASSES["Adam"] / 2
    total = sum(operations.values())
    profile_rows = [[op, f"{1e3 * t:.3g}", f"{t / copy:.2f}×", f"{t / adam_floor:.2f}×"]
                    for op, t in operations.items()]
    profile_rows.append([f"**sum of the {len(operations)} operations**", f"{1e3 * total:.3g}",
                         f"{total / copy:.2f}×", f"{total / adam_floor:.2f}×"])
    why_not = "quick mode" if quick else "torch is not installed"
    torch_note = ("PyTorch: 1 intra-op thread, parameters as one float64 tensor; `—` where torch has no such "
                  "implementation." if torch_columns else f"PyTorch columns: not measured ({why_not}).")
    text = (
        f"{size:,} float64 parameters, default hyperparameters, median of {steps} steps per process, "
        f"numpy configurations each in a fresh process, {repeats} repeat(s); BLAS pinned to 1 thread with "
        "threadpoolctl. Floor = `np.copyto` time (measured in the same process) × passes / 2. "
        f"Ratios: median (min–max) over repeats. {torch_note} Page faults: minor faults per course_lib "
        "step (fresh temporaries touching new memory).\n\n"
        "What numpy can reach: it runs each operation as its own pass over memory, so even done entirely "
        f"in place the {len(operations)} operations of an Adam step add up to "
        f"{total / adam_floor:.1f}× the floor, `sqrt` alone {operations['tmp = sqrt(v)'] / adam_floor:.1f}× "
        "(profile below)."
    )
    if fused.values:
        text += f" A fused kernel makes one pass: torch's fused Adam takes {fused.ratio(1)} the floor."
    return {
        "title": "1. Optimizer step time",
        "text": text,
        "header": header,
        "rows": rows,
        "verdicts": verdicts,
        "extra": [("Profile: an in-place numpy Adam step, operation by operation",
                   ["operation", "ms", "× one np.copyto", "× Adam's floor"], profile_rows)],
    }
