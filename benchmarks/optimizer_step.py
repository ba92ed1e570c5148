"""Section 1: one optimizer step on 10^6 float64 parameters against the memory-bandwidth floor.

The floor of an update is the time to stream its arrays through memory once: ``np.copyto`` of one
array (one read + one write) times half the number of array passes the update needs when fused
(``course_lib.optim.TABLE``). Columns: course_lib's ``opt.step`` (the lecture's rule, plain numpy
with temporaries: the code students read), numpy in place with ``out=`` (the best plain numpy does)
and PyTorch's ``foreach`` and ``fused`` implementations when torch is installed. Every optimizer
runs with its default hyperparameters.
"""

from __future__ import annotations

import resource

import numpy as np

from benchmarks.timing import Spread, in_fresh_process, median_seconds, pin_threads, section
from course_lib import optim

TARGET = ("Adam", 3.0)  # Adam within 3x its floor


def _bias(beta, t):
    return 1 - beta**t


# In-place versions of the rules, for the "numpy in place" column only: preallocated state, one
# scratch array, x overwritten (as torch does). They repeat the rules' math on purpose, to measure
# what avoiding temporaries buys; ``check_in_place`` holds each to its rule before it is timed.
def _sgd(s, x, dx, hp):
    x -= np.multiply(dx, hp["learning_rate"], out=s["tmp"])
    return x


def _momentum(s, x, dx, hp):
    v = s["velocity"]
    v *= hp["rho"]
    v += dx
    x -= np.multiply(v, hp["learning_rate"], out=s["tmp"])
    return x


def _nesterov(s, x, dx, hp):
    v, tmp = s["velocity"], s["tmp"]
    v *= hp["rho"]
    v += dx
    np.multiply(v, hp["rho"], out=tmp)
    tmp += dx
    tmp *= hp["learning_rate"]
    x -= tmp
    return x


def _scaled_step(s, x, dx, hp):  # x -= lr * dx / (sqrt(grad_squared) + eps)
    tmp = np.sqrt(s["grad_squared"], out=s["tmp"])
    tmp += hp["eps"]
    np.divide(dx, tmp, out=tmp)
    tmp *= hp["learning_rate"]
    x -= tmp
    return x


def _adagrad(s, x, dx, hp):
    s["grad_squared"] += np.multiply(dx, dx, out=s["tmp"])
    return _scaled_step(s, x, dx, hp)


def _rmsprop(s, x, dx, hp):
    g2, tmp = s["grad_squared"], s["tmp"]
    g2 *= hp["decay_rate"]
    np.multiply(dx, dx, out=tmp)
    tmp *= 1 - hp["decay_rate"]
    g2 += tmp
    return _scaled_step(s, x, dx, hp)


def _adam(s, x, dx, hp):
    beta1, beta2 = hp["beta1"], hp["beta2"]
    s["t"] += 1
    m, v, tmp = s["first_moment"], s["second_moment"], s["tmp"]
    m *= beta1
    m += np.multiply(dx, 1 - beta1, out=tmp)
    v *= beta2
    np.multiply(dx, dx, out=tmp)
    tmp *= 1 - beta2
    v += tmp
    np.sqrt(v, out=tmp)
    tmp *= 1 / np.sqrt(_bias(beta2, s["t"]))
    tmp += hp["eps"]
    np.divide(m, tmp, out=tmp)
    tmp *= hp["learning_rate"] / _bias(beta1, s["t"])
    x -= tmp
    return x


IN_PLACE = {"SGD": _sgd, "Momentum": _momentum, "Nesterov": _nesterov, "AdaGrad": _adagrad,
            "RMSProp": _rmsprop, "Adam": _adam}


def _in_place_state(name, x):
    state = {key: np.array(value, dtype=float) if key != "t" else value
             for key, value in optim.TABLE[name].cls.init(x).items()}
    return {**state, "tmp": np.empty_like(x)}


def check_in_place(name, size=50, steps=5, seed=0):
    """Raise AssertionError unless the in-place version of ``name`` follows its rule step by step."""
    info, rng = optim.TABLE[name], np.random.default_rng(seed)
    hyperparameters = info.cls().hyperparameters
    x = rng.standard_normal(size)
    state, fast_state, fast_x = info.cls.init(x), _in_place_state(name, x), x.copy()
    for _ in range(steps):
        dx = rng.standard_normal(size)
        x, state = info.cls.rule(x, dx, state, **hyperparameters)
        fast_x = IN_PLACE[name](fast_state, fast_x, dx, hyperparameters)
        np.testing.assert_allclose(fast_x, x, rtol=1e-12, atol=1e-15, err_msg=f"in-place {name}")


def _torch_optimizer(name, param, mode):
    import torch

    info = optim.TABLE[name]
    equivalent = info.torch(**info.cls().hyperparameters)
    if equivalent is None:
        return None
    torch_name, kwargs = equivalent
    try:
        return getattr(torch.optim, torch_name)([param], **kwargs, **{mode: True})
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
            opt, box = optim.OPTIMIZERS[optimizer](), {"x": x0}

            def step(opt=opt, box=box):
                box["x"] = opt.step(box["x"], dx)
        elif implementation == "numpy in place":
            if optimizer not in IN_PLACE:
                results[implementation] = None
                continue
            check_in_place(optimizer)
            update, hyperparameters = IN_PLACE[optimizer], optim.OPTIMIZERS[optimizer]().hyperparameters
            state, box = _in_place_state(optimizer, x0), {"x": x0.copy()}

            def step(update=update, state=state, box=box, hyperparameters=hyperparameters):
                box["x"] = update(state, box["x"], dx, hyperparameters)
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
    hp = optim.Adam().hyperparameters
    operations = {  # the lines of _adam, on arrays that stay finite when repeated
        "m *= beta1": lambda: np.multiply(m, hp["beta1"], out=m),
        "tmp = dx * (1 - beta1)": lambda: np.multiply(dx, 1 - hp["beta1"], out=tmp),
        "m += tmp": lambda: np.add(m, tmp, out=m),
        "v *= beta2": lambda: np.multiply(v, hp["beta2"], out=v),
        "tmp = dx * dx": lambda: np.multiply(dx, dx, out=tmp),
        "tmp *= 1 - beta2": lambda: np.multiply(tmp, 1 - hp["beta2"], out=tmp),
        "v += tmp": lambda: np.add(v, tmp, out=v),
        "tmp = sqrt(v)": lambda: np.sqrt(v, out=tmp),
        "tmp *= 1 / sqrt(1 - beta2^t)": lambda: np.multiply(tmp, 1.0, out=tmp),
        "tmp += eps": lambda: np.add(tmp, hp["eps"], out=tmp),
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
    plain = ["course_lib", "numpy in place"]
    plan = [(plain, True)] if quick else [([c], False) for c in plain]
    if torch_columns:
        plan.append((torch_columns, True))
    return plan


def _measure_repeat(plan, size, steps):
    """One repeat of every process in the plan: {optimizer: {column: {step, page_faults, ratio}}}."""
    results = {name: {} for name in optim.TABLE}
    for columns, together in plan:
        for batch in [list(optim.TABLE)] if together else [[name] for name in optim.TABLE]:
            measured = in_fresh_process("optimizer_step", "measure_many", optimizers=batch,
                                        implementations=columns, size=size, steps=steps)
            for name, values in measured.items():
                # Each process's ratios use its own copyto: a paired measurement.
                floor = values.pop("copyto") * optim.TABLE[name].passes / 2
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
    columns = ["course_lib", "numpy in place", *torch_columns]
    plan = _process_plan(quick, torch_columns)
    repeated = [_measure_repeat(plan, size, steps) for _ in range(repeats)]
    rows, verdicts = [], []
    for name, info in optim.TABLE.items():
        runs = [r[name] for r in repeated]
        ratio = {c: Spread([r[c]["ratio"] for r in runs if c in r]) for c in columns}
        faults = np.median([r["course_lib"]["page_faults"] for r in runs])
        rows.append([name, str(info.passes), Spread([r["floor"] for r in runs]).ms(),
                     Spread([r["course_lib"]["step"] for r in runs]).ms(),
                     *(ratio[c].ratio(1) for c in columns), f"{faults:.0f}"])
        if name == TARGET[0]:
            adam, fused = ratio["course_lib"].median, ratio.get("torch fused", Spread())
            verdicts.append((f"Adam (course_lib) within {TARGET[1]:g}× its floor", adam <= TARGET[1],
                             f"{adam:.1f}× the floor"))
    header = ["optimizer", "array passes", "floor (ms)", "course_lib step (ms)",
              *(f"{c} / floor" for c in columns), "page faults per course_lib step"]
    profile = in_fresh_process("optimizer_step", "adam_profile", size=size, steps=steps)
    copy, operations = profile["copyto"], profile["operations"]
    adam_floor = copy * optim.TABLE["Adam"].passes / 2
    total = sum(operations.values())
    profile_rows = [[op, f"{1e3 * t:.3g}", f"{t / copy:.2f}×", f"{t / adam_floor:.2f}×"]
                    for op, t in operations.items()]
    profile_rows.append([f"**sum of the {len(operations)} operations**", f"{1e3 * total:.3g}",
                         f"{total / copy:.2f}×", f"{total / adam_floor:.2f}×"])
    why_not = "quick mode" if quick else "torch is not installed"
    torch_note = ("PyTorch: 1 intra-op thread, parameters as one float64 tensor." if torch_columns
                  else f"PyTorch columns: not measured ({why_not}).")
    text = (
        f"{size:,} float64 parameters, default hyperparameters, median of {steps} steps per process, "
        f"numpy configurations each in a fresh process, {repeats} repeat(s); BLAS pinned to 1 thread with "
        "threadpoolctl. Floor = `np.copyto` time (measured in the same process) × passes / 2. "
        f"Ratios: median (min–max) over repeats. {torch_note} `—`: no such implementation. "
        "course_lib is the lecture's rule, plain numpy with temporaries; numpy in place runs the same "
        "update with `out=` (checked against the rule before it is timed). Page faults: minor faults per "
        "course_lib step (fresh temporaries touching new memory).\n\n"
        "What numpy can reach: it runs each operation as its own pass over memory, so even done entirely "
        f"in place the {len(operations)} operations of an Adam step add up to "
        f"{total / adam_floor:.1f}× the floor, `sqrt` alone {operations['tmp = sqrt(v)'] / adam_floor:.1f}× "
        "(profile below)."
    )
    if fused.values:
        text += f" A fused kernel makes one pass: torch's fused Adam takes {fused.ratio(1)} the floor."
    return section("1. Optimizer step time", text, header, rows, verdicts,
                   extra=[("Profile: an in-place numpy Adam step, operation by operation",
                           ["operation", "ms", "× one np.copyto", "× Adam's floor"], profile_rows)])
