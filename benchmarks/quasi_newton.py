"""Section 4: the course's L-BFGS and BFGS against scipy.optimize.

Both sides minimise the same counted callable that returns (loss, gradient), so an "evaluation" is
one loss+gradient pair counted the same way for both. Defaults on both sides: the course's
``lbfgs`` (memory 10, strong Wolfe) uses scipy L-BFGS-B's stopping rules; ``bfgs`` and scipy's BFGS
stop at max |g| <= 1e-5. Rosenbrock starts at (-1.2, 1, -1.2, ...).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize

from benchmarks.timing import Spread, section

TARGET = 1.1  # course L-BFGS evaluations <= 1.1x scipy L-BFGS-B's
TITLE = "4. L-BFGS and BFGS against scipy.optimize"
# scipy's BFGS keeps a dense n x n inverse Hessian: at n = 1000 on Rosenbrock it takes minutes
BFGS_MAX_DIM = 100


class Counted:
    """f(x) -> (loss, gradient) of a course problem, counting calls."""

    def __init__(self, problem):
        self.problem, self.calls = problem, 0

    def __call__(self, x):
        self.calls += 1
        return self.problem.loss(x), self.problem.grad(x)


def _solve(method, problem, x0):
    counted = Counted(problem)
    start = time.perf_counter()
    if method.startswith("scipy"):
        result = minimize(counted, x0, jac=True, method=method.removeprefix("scipy "))
    else:
        from course_lib import second_order

        result = getattr(second_order, method.removeprefix("course "))(counted, x0, grad=True)
    return time.perf_counter() - start, counted.calls, float(result.fun)


def _problems(quick):
    from course_lib.problems import LogisticRegression, Rosenbrock

    dims = (2, 10) if quick else (2, 10, 100, 1000)
    cases = [(f"Rosenbrock n={n}", Rosenbrock(n), Rosenbrock.standard_start(n)) for n in dims]
    logistic = LogisticRegression(num_examples=1000, dim=20)
    cases.append((f"logistic regression (N=1000, dim=20, l2={logistic.l2:g})", logistic, np.zeros(20)))
    return cases


def run(quick=False, repeats=3):
    repeats = 1 if quick else repeats
    rows, verdicts = [], []
    pairs = [("course lbfgs", "scipy L-BFGS-B"), ("course bfgs", "scipy BFGS")]
    for label, problem, x0 in _problems(quick):
        for course, scipy in pairs:
            if course == "course bfgs" and problem.dim > BFGS_MAX_DIM:
                continue
            runs = {m: [_solve(m, problem, x0) for _ in range(repeats)] for m in (course, scipy)}
            (_, course_evals, course_f), (_, scipy_evals, scipy_f) = runs[course][0], runs[scipy][0]
            times = Spread([c[0] / s[0] for c, s in zip(runs[course], runs[scipy], strict=True)])
            ratio = course_evals / scipy_evals
            row = [label, f"{course.split()[1]} vs {scipy.split()[1]}", str(course_evals), str(scipy_evals),
                   f"{ratio:.2f}×", f"{course_f:.2g}", f"{scipy_f:.2g}", times.ratio()]
            rows.append(row)
            if course == "course lbfgs":
                verdicts.append((f"{label}: L-BFGS evaluations ≤ {TARGET}× scipy L-BFGS-B", ratio <= TARGET,
                                 f"{course_evals} vs {scipy_evals} ({ratio:.2f}×)"))
    text = (
        "Function+gradient evaluations (one call of the same counted (loss, gradient) function on both "
        f"sides; deterministic) and wall-time ratio course / scipy (median (min–max) of {repeats} run(s), "
        "BLAS pinned to 1 thread). The final losses show where each method stopped. BFGS is skipped for "
        f"n > {BFGS_MAX_DIM}: its dense n×n updates make scipy's take minutes at n = 1000."
    )
    header = ["problem", "method (course vs scipy)", "course evals", "scipy evals", "evals ratio",
              "course final f", "scipy final f", "time ratio"]
    return section(TITLE, text, header, rows, verdicts)
