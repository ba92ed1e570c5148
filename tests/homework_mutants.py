"""Planted wrong answers: for every graded exercise, typical slips that its checks must catch.

MUTANTS[notebook][exercise] maps a description of the slip to the text that replaces the solution
region (dedented; it is indented to the markers' level when spliced in). The last group in each
notebook uses what the exercise forbids: right numbers, wrong means.
"""

MUTANTS = {
    "01_conditioning": {
        "condition_number": {
            'float32 arithmetic':
                's = np.linalg.svd(hessian.astype(np.float32), compute_uv=False)\n'
                'return float(s[0] / s[-1])',
            'largest |eigenvalue| over the smallest signed one':
                'e = np.linalg.eigvalsh(hessian)\n'
                'return np.max(np.abs(e)) / np.min(e)',
            "eigenvalue ratio (wrong for indefinite H)":
                "eigenvalues = np.linalg.eigvalsh(hessian)\nreturn eigenvalues[-1] / eigenvalues[0]",
            "smallest over largest": "s = np.linalg.svd(hessian, compute_uv=False)\nreturn s[-1] / s[0]",
            "ratio of diagonal entries": "d = np.abs(np.diag(hessian))\nreturn d.max() / d.min()",
            "uses np.linalg.cond (forbidden)": "return np.linalg.cond(hessian)",
        },
        "max_stable_learning_rate": {
            'last eigenvalue of np.linalg.eig (unsorted)':
                'return 2.0 / np.linalg.eig(hessian)[0][-1]',
            'float32 arithmetic':
                'return 2.0 / np.linalg.eigvalsh(hessian.astype(np.float32))[-1]',
            "1 / lambda_max": "return 1.0 / np.linalg.eigvalsh(hessian)[-1]",
            "2 / lambda_min": "return 2.0 / np.linalg.eigvalsh(hessian)[0]",
            "largest diagonal entry": "return 2.0 / np.max(np.diag(hessian))",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\nreturn theory.max_stable_learning_rate(hessian)",
        },
        "gd_step": {
            'modifies x in place':
                'x -= learning_rate * dx\n'
                'return x',
            'float32 arithmetic':
                'return (x - learning_rate * dx).astype(np.float32)',
            "sign error (slide typo)": "return x + learning_rate * dx",
            "forgets the learning rate": "return x - dx",
            "learning rate squared": "return x - learning_rate**2 * dx",
            "uses course_lib.optim (forbidden)":
                "from course_lib.optim import SGD\nreturn SGD(learning_rate).step(x, dx)",
        },
        "optimal_fixed_step": {
            "the largest stable step 2 / lambda_max":
                "e = np.linalg.eigvalsh(hessian)\nreturn 2.0 / e[-1], (e[-1] - e[0]) / (e[-1] + e[0])",
            "rate 1 - 1/kappa":
                "e = np.linalg.eigvalsh(hessian)\nreturn 2.0 / (e[-1] + e[0]), 1.0 - e[0] / e[-1]",
            "ends of np.linalg.eig (unsorted)":
                "e = np.linalg.eig(hessian)[0]\nreturn 2.0 / (e[-1] + e[0]), (e[-1] - e[0]) / (e[-1] + e[0])",
            "diagonal entries for eigenvalues":
                "d = np.diag(hessian)\n"
                "return 2.0 / (d.max() + d.min()), (d.max() - d.min()) / (d.max() + d.min())",
            "float32 arithmetic":
                "e = np.linalg.eigvalsh(hessian.astype(np.float32))\n"
                "return float(2 / (e[-1] + e[0])), float((e[-1] - e[0]) / (e[-1] + e[0]))",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\ne = np.linalg.eigvalsh(hessian)\n"
                "return theory.gd_optimal(e[-1], e[0])",
        },
        "steps_to_tolerance": {
            "absolute tolerance |x| <= tol":
                "x, steps = np.array([1.0, 1.0]), 0\n"
                "while np.linalg.norm(x) > tol:\n"
                "    x, steps = gd_step(x, np.array([1.0, kappa]) * x, 1.0 / kappa), steps + 1\n"
                "return steps",
            "squared norms":
                "x, steps = np.array([1.0, 1.0]), 0\n"
                "while x @ x > tol * 2.0:\n"
                "    x, steps = gd_step(x, np.array([1.0, kappa]) * x, 1.0 / kappa), steps + 1\n"
                "return steps",
            "stops when a step is shorter than tol":
                "x, steps = np.array([1.0, 1.0]), 0\n"
                "while True:\n"
                "    x_next = gd_step(x, np.array([1.0, kappa]) * x, 1.0 / kappa)\n"
                "    steps += 1\n"
                "    if np.linalg.norm(x_next - x) <= tol:\n"
                "        return steps\n"
                "    x = x_next",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\n"
                "return int(np.ceil(np.log(tol * np.sqrt(2)) / np.log(1 - 1 / kappa)))",
        },
        "fitted_exponent": {
            "steps against kappa, not logarithmic":
                "steps = [steps_to_tolerance(k, tol) for k in kappas]\n"
                "return np.polyfit(kappas, steps, 1)[0]",
            "the intercept instead of the slope":
                "steps = [steps_to_tolerance(k, tol) for k in kappas]\n"
                "return np.polyfit(np.log(kappas), np.log(steps), 1)[1]",
            "log10 of the steps, natural log of kappa":
                "steps = [steps_to_tolerance(k, tol) for k in kappas]\n"
                "return np.polyfit(np.log(kappas), np.log10(steps), 1)[0]",
            "log of steps against kappa":
                "steps = [steps_to_tolerance(k, tol) for k in kappas]\n"
                "return np.polyfit(kappas, np.log(steps), 1)[0]",
        },
    },
    "02_minima_saddles": {
        "classify_critical_point": {
            'tests signs before the zero test':
                'e = np.linalg.eigvalsh(hessian)\n'
                'if np.all(e > 0):\n'
                "    return 'minimum'\n"
                'if np.all(e < 0):\n'
                "    return 'maximum'\n"
                'scale = np.max(np.abs(e))\n'
                'if scale == 0 or np.any(np.abs(e) <= tol * scale):\n'
                "    return 'degenerate'\n"
                "return 'saddle'",
            'ignores the tol argument':
                'e = np.linalg.eigvalsh(hessian)\n'
                'scale = np.max(np.abs(e))\n'
                'if scale == 0 or np.any(np.abs(e) <= 1e-8 * scale):\n'
                "    return 'degenerate'\n"
                "return 'minimum' if np.all(e > 0) else 'maximum' if np.all(e < 0) else 'saddle'",
            'absolute tolerance (|lambda| <= tol)':
                'e = np.linalg.eigvalsh(hessian)\n'
                'if np.any(np.abs(e) <= tol):\n'
                "    return 'degenerate'\n"
                "return 'minimum' if np.all(e > 0) else 'maximum' if np.all(e < 0) else 'saddle'",
            "determinant test (2-D rule)":
                "det = np.linalg.det(hessian)\nif det < 0:\n    return 'saddle'\n"
                "return 'minimum' if np.trace(hessian) > 0 else 'maximum'",
            "ignores degenerate points":
                "e = np.linalg.eigvalsh(hessian)\nif np.all(e > 0):\n    return 'minimum'\n"
                "if np.all(e < 0):\n    return 'maximum'\nreturn 'saddle'",
            "signs of the diagonal":
                "d = np.diag(hessian)\nif np.any(d == 0):\n    return 'degenerate'\n"
                "return 'minimum' if np.all(d > 0) else 'maximum' if np.all(d < 0) else 'saddle'",
            "absolute zero test instead of relative":
                "e = np.linalg.eigvalsh(hessian)\nif np.any(e == 0):\n    return 'degenerate'\n"
                "return 'minimum' if np.all(e > 0) else 'maximum' if np.all(e < 0) else 'saddle'",
        },
        "fraction_positive_definite": {
            'a new generator per sample (another stream)':
                'count = 0\n'
                'for i in range(num_samples):\n'
                '    A = np.random.default_rng(seed + i).standard_normal((n, n))\n'
                '    count += np.linalg.eigvalsh((A + A.T) / 2)[0] > 0\n'
                'return count / num_samples',
            "copies the upper triangle (another ensemble)":
                "A = np.random.default_rng(seed).standard_normal((num_samples, n, n))\n"
                "H = np.triu(A) + np.swapaxes(np.triu(A, 1), 1, 2)\n"
                "return float(np.mean(np.linalg.eigvalsh(H)[:, 0] > 0))",
            "forgets to symmetrise":
                "A = np.random.default_rng(seed).standard_normal((num_samples, n, n))\n"
                "return float(np.mean(np.all(np.linalg.eigvals(A).real > 0, axis=1)))",
            "positive diagonal instead of positive eigenvalues":
                "A = np.random.default_rng(seed).standard_normal((num_samples, n, n))\n"
                "H = (A + A.transpose(0, 2, 1)) / 2\n"
                "return float(np.mean(np.all(np.diagonal(H, axis1=1, axis2=2) > 0, axis=1)))",
            "checks the largest eigenvalue":
                "A = np.random.default_rng(seed).standard_normal((num_samples, n, n))\n"
                "H = (A + A.transpose(0, 2, 1)) / 2\n"
                "return float(np.mean(np.linalg.eigvalsh(H)[:, -1] > 0))",
        },
        "saddle_free_newton_step": {
            'np.linalg.eig with V.T (wrong for repeated eigenvalues)':
                'e, V = np.linalg.eig(hessian)\n'
                'return x - V @ ((V.T @ grad) / np.abs(e))',
            '|H| taken entrywise':
                'return x - np.linalg.solve(np.abs(hessian), grad)',
            'float32 arithmetic':
                'e, V = np.linalg.eigh(hessian.astype(np.float32))\n'
                'return x - V @ ((V.T @ grad.astype(np.float32)) / np.abs(e))',
            "plain Newton (H instead of |H|)": "return x - np.linalg.solve(hessian, grad)",
            "sign error": "e, V = np.linalg.eigh(hessian)\nreturn x + V @ ((V.T @ grad) / np.abs(e))",
            "|diagonal| only": "return x - grad / np.abs(np.diag(hessian))",
            "forgets to rotate back": "e, V = np.linalg.eigh(hessian)\nreturn x - (V.T @ grad) / np.abs(e)",
            "uses course_lib.second_order (forbidden)":
                "from course_lib import second_order\n"
                "return second_order.saddle_free_newton(lambda z: 0.0, x, grad=lambda z: grad, "
                "hessian=lambda z: hessian, gtol=0.0, maxiter=1).x",
        },
        "escape_time": {
            "forgets the 2 of -y^2's gradient: log(1 + alpha)":
                "return float(np.log(1 / abs(y0)) / np.log(1 + learning_rate))",
            "small-step limit log(1/|y0|) / (2 alpha)":
                "return float(np.log(1 / abs(y0)) / (2 * learning_rate))",
            "the x-direction's factor |1 - 10 alpha|":
                "return float(np.log(1 / abs(y0)) / -np.log(abs(1 - 10 * learning_rate)))",
            "no absolute value of y0":
                "return float(np.log(1 / y0) / np.log1p(2 * learning_rate))",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\n"
                "theory.condition_number(np.diag([10.0, -2.0]))\n"
                "return float(np.log(1 / abs(y0)) / np.log1p(2 * learning_rate))",
        },
        "saddle_free_escape_steps": {
            "plain Newton's step (drawn to the saddle)":
                'hessian = np.diag([1.0, -curvature])\n'
                'point = np.array([1.0, y0])\n'
                'for steps in range(1, 101):\n'
                '    point = point - np.linalg.solve(hessian, hessian @ point)\n'
                '    if abs(point[1]) >= 1.0:\n'
                '        return steps\n'
                'return 100',
            "gradient (x, c y): the sign of -1/2 c y^2 lost":
                'hessian = np.diag([1.0, -curvature])\n'
                'point = np.array([1.0, y0])\n'
                'for steps in range(1, 101):\n'
                '    point = saddle_free_newton_step(point, np.abs(hessian) @ point, hessian)\n'
                '    if abs(point[1]) >= 1.0:\n'
                '        return steps\n'
                'return 100',
            "counts the steps before the crossing (one too few)":
                'hessian = np.diag([1.0, -curvature])\n'
                'point = np.array([1.0, y0])\n'
                'for steps in range(1, 101):\n'
                '    point = saddle_free_newton_step(point, hessian @ point, hessian)\n'
                '    if abs(point[1]) >= 1.0:\n'
                '        return steps - 1\n'
                'return 100',
            "gradient descent with learning rate 0.1 instead":
                'hessian = np.diag([1.0, -curvature])\n'
                'point = np.array([1.0, y0])\n'
                'for steps in range(1, 101):\n'
                '    point = point - 0.1 * (hessian @ point)\n'
                '    if abs(point[1]) >= 1.0:\n'
                '        return steps\n'
                'return 100',
            "uses course_lib.second_order (forbidden)":
                "from course_lib import second_order\n"
                "h = np.diag([1.0, -curvature])\n"
                "second_order.saddle_free_newton(lambda z: 0.0, np.array([1.0, y0]), "
                "grad=lambda z: h @ z, hessian=lambda z: h, gtol=0.0, maxiter=1)\n"
                "return int(np.ceil(np.log2(1 / abs(y0))))",
        },
    },
    "03_minibatch_noise": {
        "minibatch_gradient": {
            'divides by N instead of B':
                'rows = A[indices]\n'
                'return rows.T @ (rows @ x - b[indices]) / len(A)',
            'float32 arithmetic':
                'rows = A[indices].astype(np.float32)\n'
                'return rows.T @ (rows @ x.astype(np.float32) - b[indices]) / len(indices)',
            "sums instead of averaging": "rows = A[indices]\nreturn rows.T @ (rows @ x - b[indices])",
            "ignores the batch (full gradient)": "return A.T @ (A @ x - b) / len(A)",
            "residual sign flipped":
                "rows = A[indices]\nreturn rows.T @ (b[indices] - rows @ x) / len(indices)",
            "drops repeated indices":
                "idx = np.unique(indices)\nrows = A[idx]\nreturn rows.T @ (rows @ x - b[idx]) / len(idx)",
            "uses course_lib.problems (forbidden)":
                "from course_lib.problems import LeastSquares\n"
                "p = LeastSquares(num_examples=len(A), dim=A.shape[1])\np.A, p.b = A, b\n"
                "return p.minibatch_grad(x, indices)",
        },
        "minibatch_variance": {
            "no finite-population correction (sampling with replacement)":
                "return np.sum(np.var(per_example_grads, axis=0)) / batch_size",
            "ddof=1 variance without the correction":
                "return np.sum(np.var(per_example_grads, axis=0, ddof=1)) / batch_size",
            "variance over the wrong axis":
                "n = len(per_example_grads)\ns = np.sum(np.var(per_example_grads, axis=1))\n"
                "return s / batch_size * (n - batch_size) / (n - 1)",
            "multiplies by B":
                "n = len(per_example_grads)\ns = np.sum(np.var(per_example_grads, axis=0))\n"
                "return s * batch_size * (n - batch_size) / (n - 1)",
        },
        "sgd_noise_floor": {
            "small-step limit alpha s^2 / (2 lambda)":
                "return learning_rate * variance / (2 * curvature)",
            "(1 - alpha lambda) not squared":
                "return learning_rate * variance / curvature",
            "noise without its alpha^2":
                "return variance / (learning_rate * curvature * (2 - learning_rate * curvature))",
            "the loss floor 1/2 lambda E[x^2] instead of E[x^2]":
                "return learning_rate * variance / (2 * (2 - learning_rate * curvature))",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\n"
                "theory.gd_optimal(curvature, curvature)\n"
                "return learning_rate * variance / (curvature * (2 - learning_rate * curvature))",
        },
        "noise_floor_slope": {
            "learning rate scaled with the batch (linear scaling rule)":
                'x_star = np.linalg.lstsq(A, b, rcond=None)[0]\n'
                'rng = np.random.default_rng(seed)\n'
                'floors = []\n'
                'for batch_size in batch_sizes:\n'
                '    x, distances = x_star.copy(), []\n'
                '    for _ in range(num_steps):\n'
                '        batch = rng.integers(0, len(A), batch_size)\n'
                '        x = x - learning_rate * batch_size * minibatch_gradient(A, b, x, batch)\n'
                '        distances.append(np.sum((x - x_star) ** 2))\n'
                '    floors.append(np.mean(distances[num_steps // 2:]))\n'
                'return float(np.polyfit(np.log(batch_sizes), np.log(floors), 1)[0])',
            "the loss instead of |x - x*|^2 (f(x*) > 0 flattens the line)":
                'x_star = np.linalg.lstsq(A, b, rcond=None)[0]\n'
                'rng = np.random.default_rng(seed)\n'
                'floors = []\n'
                'for batch_size in batch_sizes:\n'
                '    x, distances = x_star.copy(), []\n'
                '    for _ in range(num_steps):\n'
                '        batch = rng.integers(0, len(A), batch_size)\n'
                '        x = x - learning_rate * minibatch_gradient(A, b, x, batch)\n'
                '        distances.append(0.5 * np.mean((A @ x - b) ** 2))\n'
                '    floors.append(np.mean(distances[num_steps // 2:]))\n'
                'return float(np.polyfit(np.log(batch_sizes), np.log(floors), 1)[0])',
            "from x = 0, averaging every step (the transient dominates)":
                'x_star = np.linalg.lstsq(A, b, rcond=None)[0]\n'
                'rng = np.random.default_rng(seed)\n'
                'floors = []\n'
                'for batch_size in batch_sizes:\n'
                '    x, distances = np.zeros_like(x_star), []\n'
                '    for _ in range(num_steps):\n'
                '        batch = rng.integers(0, len(A), batch_size)\n'
                '        x = x - learning_rate * minibatch_gradient(A, b, x, batch)\n'
                '        distances.append(np.sum((x - x_star) ** 2))\n'
                '    floors.append(np.mean(distances[:]))\n'
                'return float(np.polyfit(np.log(batch_sizes), np.log(floors), 1)[0])',
            "fits log floor against B, not log B":
                'x_star = np.linalg.lstsq(A, b, rcond=None)[0]\n'
                'rng = np.random.default_rng(seed)\n'
                'floors = []\n'
                'for batch_size in batch_sizes:\n'
                '    x, distances = x_star.copy(), []\n'
                '    for _ in range(num_steps):\n'
                '        batch = rng.integers(0, len(A), batch_size)\n'
                '        x = x - learning_rate * minibatch_gradient(A, b, x, batch)\n'
                '        distances.append(np.sum((x - x_star) ** 2))\n'
                '    floors.append(np.mean(distances[num_steps // 2:]))\n'
                'return float(np.polyfit(np.array(batch_sizes, dtype=float), np.log(floors), 1)[0])',
            "uses course_lib.problems (forbidden)":
                "from course_lib.problems import LeastSquares\n"
                "LeastSquares(num_examples=len(A), dim=A.shape[1])\n"
                "return -1.0",
        },
    },
    "04_momentum": {
        "momentum_step": {
            'updates the velocity in place':
                "state['velocity'] *= rho\n"
                "state['velocity'] += dx\n"
                "return x - learning_rate * state['velocity'], {'velocity': state['velocity']}",
            'modifies x in place':
                "v = rho * state['velocity'] + dx\n"
                'x -= learning_rate * v\n'
                "return x, {'velocity': v}",
            "sign error (slide typo)":
                "v = rho * state['velocity'] + dx\nreturn x + learning_rate * v, {'velocity': v}",
            "learning rate inside the velocity":
                "v = rho * state['velocity'] + learning_rate * dx\nreturn x - v, {'velocity': v}",
            "steps with the old velocity":
                "v = rho * state['velocity'] + dx\n"
                "return x - learning_rate * state['velocity'], {'velocity': v}",
            "damps the gradient too (1 - rho)":
                "v = rho * state['velocity'] + (1 - rho) * dx\nreturn x - learning_rate * v, {'velocity': v}",
            "uses course_lib.optim (forbidden)":
                "from course_lib.optim import Momentum\nopt = Momentum(learning_rate, rho)\n"
                "opt.velocity = state['velocity']\nx = opt.step(x, dx)\nreturn x, {'velocity': opt.velocity}",
        },
        "momentum_to_cs231n": {
            'scales the velocity in place':
                'velocity *= -learning_rate\n'
                'return velocity',
            "sign error": "return learning_rate * velocity",
            "divides by the learning rate": "return -velocity / learning_rate",
            "forgets the learning rate": "return -velocity",
        },
        "optimal_heavy_ball": {
            "rho equal to the rate, not its square":
                "e = np.sqrt(np.linalg.eigvalsh(hessian))\n"
                "r = (e[-1] - e[0]) / (e[-1] + e[0])\n"
                "return 4.0 / (e[-1] + e[0]) ** 2, r, r",
            "gradient descent's rate (kappa, not its square root)":
                "e = np.linalg.eigvalsh(hessian)\n"
                "a, b = np.sqrt(e[0]), np.sqrt(e[-1])\n"
                "return 4.0 / (a + b) ** 2, ((b - a) / (b + a)) ** 2, (e[-1] - e[0]) / (e[-1] + e[0])",
            "Nesterov's parameters":
                "e = np.linalg.eigvalsh(hessian)\n"
                "q = np.sqrt(e[-1] / e[0])\n"
                "return 1.0 / e[-1], (q - 1) / (q + 1), 1 - 1 / q",
            "ends of np.linalg.eig (unsorted)":
                "e = np.sqrt(np.linalg.eig(hessian)[0])\n"
                "r = (e[-1] - e[0]) / (e[-1] + e[0])\n"
                "return 4.0 / (e[-1] + e[0]) ** 2, r * r, r",
            "float32 arithmetic":
                "e = np.sqrt(np.linalg.eigvalsh(hessian.astype(np.float32)))\n"
                "r = (e[-1] - e[0]) / (e[-1] + e[0])\n"
                "return float(4 / (e[-1] + e[0]) ** 2), float(r * r), float(r)",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\n"
                "e = np.linalg.eigvalsh(hessian)\n"
                "return theory.heavy_ball_optimal(e[-1], e[0])",
        },
        "stability_limit": {
            "rho left out of the step (plain gradient descent)":
                "def stable(learning_rate):\n"
                "    x, state = np.array([1.0]), {\"velocity\": np.array([0.0])}\n"
                "    for _ in range(300):\n"
                "        x, state = momentum_step(x, eigenvalue * x, state, learning_rate, 0.0)\n"
                "        if not abs(x[0]) < 1e12:\n"
                "            return False\n"
                "    return abs(x[0]) < 1.0\n"
                "low, high = 0.0, 20.0 / eigenvalue\n"
                "for _ in range(30):\n"
                "    middle = (low + high) / 2\n"
                "    low, high = (middle, high) if stable(middle) else (low, middle)\n"
                "return (low + high) / 2",
            "gradient x instead of eigenvalue * x":
                "def stable(learning_rate):\n"
                "    x, state = np.array([1.0]), {\"velocity\": np.array([0.0])}\n"
                "    for _ in range(300):\n"
                "        x, state = momentum_step(x, x, state, learning_rate, rho)\n"
                "        if not abs(x[0]) < 1e12:\n"
                "            return False\n"
                "    return abs(x[0]) < 1.0\n"
                "low, high = 0.0, 20.0 / eigenvalue\n"
                "for _ in range(30):\n"
                "    middle = (low + high) / 2\n"
                "    low, high = (middle, high) if stable(middle) else (low, middle)\n"
                "return (low + high) / 2",
            "one step decides: |x_1| < 1":
                "def stable(learning_rate):\n"
                "    x, state = np.array([1.0]), {\"velocity\": np.array([0.0])}\n"
                "    for _ in range(1):\n"
                "        x, state = momentum_step(x, eigenvalue * x, state, learning_rate, rho)\n"
                "        if not abs(x[0]) < 1e12:\n"
                "            return False\n"
                "    return abs(x[0]) < 1.0\n"
                "low, high = 0.0, 20.0 / eigenvalue\n"
                "for _ in range(30):\n"
                "    middle = (low + high) / 2\n"
                "    low, high = (middle, high) if stable(middle) else (low, middle)\n"
                "return (low + high) / 2",
            "bracket [0, 2 / eigenvalue], gradient descent's limit":
                "def stable(learning_rate):\n"
                "    x, state = np.array([1.0]), {\"velocity\": np.array([0.0])}\n"
                "    for _ in range(300):\n"
                "        x, state = momentum_step(x, eigenvalue * x, state, learning_rate, rho)\n"
                "        if not abs(x[0]) < 1e12:\n"
                "            return False\n"
                "    return abs(x[0]) < 1.0\n"
                "low, high = 0.0, 2.0 / eigenvalue\n"
                "for _ in range(30):\n"
                "    middle = (low + high) / 2\n"
                "    low, high = (middle, high) if stable(middle) else (low, middle)\n"
                "return (low + high) / 2",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\n"
                "return (2 + 2 * rho) / eigenvalue if theory.momentum_stable(1e-9, rho, eigenvalue) else 0.0",
        },
    },
    "05_nesterov": {
        "nesterov_step": {
            'updates the velocity in place':
                "old = state['cs231n_velocity'].copy()\n"
                "v = state['cs231n_velocity']\n"
                'v *= rho\n'
                'v -= learning_rate * dx\n'
                "return x - rho * old + (1 + rho) * v, {'cs231n_velocity': v}",
            "forgets -rho * old velocity":
                "v = rho * state['cs231n_velocity'] - learning_rate * dx\n"
                "return x + (1 + rho) * v, {'cs231n_velocity': v}",
            "old and new velocity swapped":
                "old = state['cs231n_velocity']\nv = rho * old - learning_rate * dx\n"
                "return x - rho * v + (1 + rho) * old, {'cs231n_velocity': v}",
            "plain momentum (no look-ahead)":
                "v = rho * state['cs231n_velocity'] - learning_rate * dx\n"
                "return x + v, {'cs231n_velocity': v}",
            "sign error in the velocity":
                "old = state['cs231n_velocity']\nv = rho * old + learning_rate * dx\n"
                "return x - rho * old + (1 + rho) * v, {'cs231n_velocity': v}",
            "uses course_lib.optim (forbidden)":
                "from course_lib import optim\n"
                "v = {'velocity': state['cs231n_velocity'] / -learning_rate}\n"
                "x_next, v = optim.nesterov_step(x, dx, v, learning_rate=learning_rate, rho=rho)\n"
                "return x_next, {'cs231n_velocity': -learning_rate * v['velocity']}",
        },
        "nesterov_rate": {
            "the heavy ball's recursion (no look-ahead)":
                "roots = np.roots([1.0, -(1.0 + rho - learning_rate * eigenvalue), rho])\n"
                "return float(np.max(np.abs(roots)))",
            "complex-root modulus sqrt(rho (1 - alpha lambda)) everywhere":
                "return float(np.sqrt(rho * (1.0 - learning_rate * eigenvalue)))",
            "the smaller root":
                "shrink = 1.0 - learning_rate * eigenvalue\n"
                "return float(np.min(np.abs(np.roots([1.0, -(1.0 + rho) * shrink, rho * shrink]))))",
            "look-ahead only in the gradient term (b = rho)":
                "shrink = 1.0 - learning_rate * eigenvalue\n"
                "return float(np.max(np.abs(np.roots([1.0, -(1.0 + rho) * shrink, rho]))))",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\n"
                "return theory.momentum_contraction(learning_rate, rho, eigenvalue)",
        },
        "measured_nesterov_rate": {
            "the heavy ball's rho (squared)":
                "c = np.array([1.0, kappa])\n"
                "rho = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2\n"
                "x, state, norms = np.array([1.0, 1.0]), {'cs231n_velocity': np.zeros(2)}, [np.sqrt(2.0)]\n"
                "for _ in range(num_steps):\n"
                "    x, state = nesterov_step(x, c * x, state, 1.0 / kappa, rho)\n"
                "    norms.append(np.linalg.norm(x))\n"
                "half = num_steps // 2\n"
                "return float((norms[-1] / norms[half]) ** (1.0 / (num_steps - half)))",
            "measured over the whole run":
                "c = np.array([1.0, kappa])\n"
                "rho = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)\n"
                "x, state = np.array([1.0, 1.0]), {'cs231n_velocity': np.zeros(2)}\n"
                "for _ in range(num_steps):\n"
                "    x, state = nesterov_step(x, c * x, state, 1.0 / kappa, rho)\n"
                "return float((np.linalg.norm(x) / np.sqrt(2.0)) ** (1.0 / num_steps))",
            "ratio of the norms without the root":
                "c = np.array([1.0, kappa])\n"
                "rho = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)\n"
                "x, state, norms = np.array([1.0, 1.0]), {'cs231n_velocity': np.zeros(2)}, [np.sqrt(2.0)]\n"
                "for _ in range(num_steps):\n"
                "    x, state = nesterov_step(x, c * x, state, 1.0 / kappa, rho)\n"
                "    norms.append(np.linalg.norm(x))\n"
                "return float(norms[-1] / norms[num_steps // 2])",
            "learning rate 1 / mu (diverges)":
                "c = np.array([1.0, kappa])\n"
                "rho = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)\n"
                "x, state, norms = np.array([1.0, 1.0]), {'cs231n_velocity': np.zeros(2)}, [np.sqrt(2.0)]\n"
                "for _ in range(num_steps):\n"
                "    x, state = nesterov_step(x, c * x, state, 1.0, rho)\n"
                "    norms.append(np.linalg.norm(x))\n"
                "half = num_steps // 2\n"
                "return float((norms[-1] / norms[half]) ** (1.0 / (num_steps - half)))",
            "rho = 0.9 whatever kappa":
                "c = np.array([1.0, kappa])\n"
                "x, state, norms = np.array([1.0, 1.0]), {'cs231n_velocity': np.zeros(2)}, [np.sqrt(2.0)]\n"
                "for _ in range(num_steps):\n"
                "    x, state = nesterov_step(x, c * x, state, 1.0 / kappa, 0.9)\n"
                "    norms.append(np.linalg.norm(x))\n"
                "half = num_steps // 2\n"
                "return float((norms[-1] / norms[half]) ** (1.0 / (num_steps - half)))",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\n"
                "return theory.nesterov_optimal(kappa, 1.0)[2]",
        },
    },
    "06_adagrad_rmsprop": {
        "adagrad_step": {
            'accumulates in place':
                "state['grad_squared'] += dx * dx\n"
                "s = state['grad_squared']\n"
                "return x - learning_rate * dx / (np.sqrt(s) + eps), {'grad_squared': s}",
            'float32 arithmetic':
                "s = (state['grad_squared'] + dx * dx).astype(np.float32)\n"
                "return x - learning_rate * dx / (np.sqrt(s) + eps), {'grad_squared': s.astype(float)}",
            "eps inside the root":
                "s = state['grad_squared'] + dx * dx\n"
                "return x - learning_rate * dx / np.sqrt(s + eps), {'grad_squared': s}",
            "does not accumulate":
                "s = dx * dx\nreturn x - learning_rate * dx / (np.sqrt(s) + eps), {'grad_squared': s}",
            "no square root":
                "s = state['grad_squared'] + dx * dx\n"
                "return x - learning_rate * dx / (s + eps), {'grad_squared': s}",
            "steps with the old cache":
                "s = state['grad_squared']\n"
                "return x - learning_rate * dx / (np.sqrt(s) + eps), {'grad_squared': s + dx * dx}",
        },
        "rmsprop_step": {
            'updates the cache in place':
                "s = state['grad_squared']\n"
                's *= decay_rate\n'
                's += (1 - decay_rate) * dx * dx\n'
                "return x - learning_rate * dx / (np.sqrt(s) + eps), {'grad_squared': s}",
            "eps inside the root":
                "s = decay_rate * state['grad_squared'] + (1 - decay_rate) * dx * dx\n"
                "return x - learning_rate * dx / np.sqrt(s + eps), {'grad_squared': s}",
            "accumulates instead of averaging":
                "s = decay_rate * state['grad_squared'] + dx * dx\n"
                "return x - learning_rate * dx / (np.sqrt(s) + eps), {'grad_squared': s}",
            "weights swapped":
                "s = (1 - decay_rate) * state['grad_squared'] + decay_rate * dx * dx\n"
                "return x - learning_rate * dx / (np.sqrt(s) + eps), {'grad_squared': s}",
            "uses torch.optim (forbidden)":
                "import torch\nopt = torch.optim.RMSprop\nraise RuntimeError('unreachable in the checks')",
        },
        "constant_gradient_steps": {
            "AdaGrad decays like 1/t":
                "g = abs(gradient)\n"
                "return (learning_rate * g / (t * g + eps),\n"
                "        learning_rate * g / (np.sqrt(1 - decay_rate**t) * g + eps))",
            "RMSProp at its steady state (no 1 - beta^t)":
                "g = abs(gradient)\n"
                "return learning_rate * g / (np.sqrt(t) * g + eps), learning_rate * g / (g + eps)",
            "beta^t instead of 1 - beta^t":
                "g = abs(gradient)\n"
                "return (learning_rate * g / (np.sqrt(t) * g + eps),\n"
                "        learning_rate * g / (np.sqrt(decay_rate**t) * g + eps))",
            "eps inside the root":
                "g = abs(gradient)\n"
                "return (learning_rate * g / np.sqrt(t * g * g + eps),\n"
                "        learning_rate * g / np.sqrt((1 - decay_rate**t) * g * g + eps))",
            "caches after t - 1 steps":
                "g = abs(gradient)\n"
                "return (learning_rate * g / (np.sqrt(t - 1) * g + eps),\n"
                "        learning_rate * g / (np.sqrt(1 - decay_rate ** (t - 1)) * g + eps))",
            "uses course_lib.optim (forbidden)":
                "from course_lib import optim\n"
                "x, a, r = np.zeros(1), {'grad_squared': np.zeros(1)}, {'grad_squared': np.zeros(1)}\n"
                "return float(optim.adagrad_step(x, np.array([gradient]), a, learning_rate=learning_rate,\n"
                "                                eps=eps)[0][0]), 0.0",
        },
        "adagrad_distance": {
            "the gradient x (identity Hessian)":
                "x, state = x0, {'grad_squared': np.zeros_like(x0)}\n"
                "for _ in range(num_steps):\n"
                "    x, state = adagrad_step(x, x, state, learning_rate, 0.0)\n"
                "return float(np.linalg.norm(x))",
            "a fresh cache every step (sign descent)":
                "x = x0\n"
                "for _ in range(num_steps):\n"
                "    fresh = {'grad_squared': np.zeros_like(x0)}\n"
                "    x, _ = adagrad_step(x, hessian @ x, fresh, learning_rate, 0.0)\n"
                "return float(np.linalg.norm(x))",
            "returns the loss":
                "x, state = x0, {'grad_squared': np.zeros_like(x0)}\n"
                "for _ in range(num_steps):\n"
                "    x, state = adagrad_step(x, hessian @ x, state, learning_rate, 0.0)\n"
                "return float(0.5 * x @ hessian @ x)",
            "one step short":
                "x, state = x0, {'grad_squared': np.zeros_like(x0)}\n"
                "for _ in range(num_steps - 1):\n"
                "    x, state = adagrad_step(x, hessian @ x, state, learning_rate, 0.0)\n"
                "return float(np.linalg.norm(x))",
            "uses course_lib.optim (forbidden)":
                "from course_lib import optim\n"
                "x, state = x0, {'grad_squared': np.zeros_like(x0)}\n"
                "for _ in range(num_steps):\n"
                "    x, state = optim.adagrad_step(x, hessian @ x, state,\n"
                "                                  learning_rate=learning_rate, eps=0.0)\n"
                "return float(np.linalg.norm(x))",
        },
    },
    "07_adam": {
        "adam_almost_step": {
            'updates the moments in place':
                "m, v = state['first_moment'], state['second_moment']\n"
                'm *= beta1\n'
                'm += (1 - beta1) * dx\n'
                'v *= beta2\n'
                'v += (1 - beta2) * dx * dx\n'
                "return x - learning_rate * m / (np.sqrt(v) + eps), {'first_moment': m, 'second_moment': v}",
            "beta1 for the second moment":
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta1 * state['second_moment'] + (1 - beta1) * dx * dx\n"
                "return x - learning_rate * m / (np.sqrt(v) + eps), {'first_moment': m, 'second_moment': v}",
            "eps inside the root":
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                "return x - learning_rate * m / np.sqrt(v + eps), {'first_moment': m, 'second_moment': v}",
            "first moment accumulates (no 1 - beta1)":
                "m = beta1 * state['first_moment'] + dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                "return x - learning_rate * m / (np.sqrt(v) + eps), {'first_moment': m, 'second_moment': v}",
        },
        "adam_step": {
            'returns the old t':
                "t = state['t'] + 1\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                'x = x - learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)\n'
                "return x, {'first_moment': m, 'second_moment': v, 't': state['t']}",
            "increments t in the caller's state":
                "state['t'] += 1\n"
                "t = state['t']\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                'x = x - learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)\n'
                "return x, {'first_moment': m, 'second_moment': v, 't': t}",
            "missing bias correction":
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                "x = x - learning_rate * m / (np.sqrt(v) + eps)\n"
                "return x, {'first_moment': m, 'second_moment': v, 't': state['t'] + 1}",
            "t starting at 0 (corrects with t before the increment)":
                "t = state['t']\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                "x = x - learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)\n"
                "return x, {'first_moment': m, 'second_moment': v, 't': t + 1}",
            "eps inside the root":
                "t = state['t'] + 1\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                "x = x - learning_rate * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps)\n"
                "return x, {'first_moment': m, 'second_moment': v, 't': t}",
            "stores the corrected moments":
                "t = state['t'] + 1\n"
                "m = (beta1 * state['first_moment'] + (1 - beta1) * dx) / (1 - beta1**t)\n"
                "v = (beta2 * state['second_moment'] + (1 - beta2) * dx * dx) / (1 - beta2**t)\n"
                "x = x - learning_rate * m / (np.sqrt(v) + eps)\n"
                "return x, {'first_moment': m, 'second_moment': v, 't': t}",
            "uses course_lib.optim.Adam (forbidden)":
                "import course_lib.optim\nopt = course_lib.optim.Adam(learning_rate, beta1, beta2, eps)\n"
                "opt.first_moment, opt.second_moment = state['first_moment'], state['second_moment']\n"
                "opt.t = state['t']\nx = opt.step(x, dx)\n"
                "return x, {'first_moment': opt.first_moment, 'second_moment': opt.second_moment,\n"
                "           't': opt.t}",
        },
        "adamw_step": {
            "L2 in the gradient (not decoupled)":
                "g = dx + weight_decay * x\nt = state['t'] + 1\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * g\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * g * g\n"
                "x = x - learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)\n"
                "return x, {'first_moment': m, 'second_moment': v, 't': t}",
            "decay applied after the Adam step":
                "t = state['t'] + 1\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                "x = x - learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)\n"
                "return x - learning_rate * weight_decay * x, "
                "{'first_moment': m, 'second_moment': v, 't': t}",
            "decay without the learning rate":
                "x = x - weight_decay * x\nt = state['t'] + 1\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                "x = x - learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)\n"
                "return x, {'first_moment': m, 'second_moment': v, 't': t}",
            "shrinks x in place":
                "x *= 1 - learning_rate * weight_decay\nt = state['t'] + 1\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                "x = x - learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)\n"
                "return x, {'first_moment': m, 'second_moment': v, 't': t}",
            "uses torch.optim (forbidden)":
                "import torch\nopt = torch.optim.AdamW\nraise RuntimeError('unreachable in the checks')",
        },
        "uncorrected_step_ratio": {
            "no square root":
                "return (1 - beta1**t) / (1 - beta2**t)",
            "upside down":
                "return np.sqrt(1 - beta2**t) / (1 - beta1**t)",
            "the first step's ratio at every t":
                "return (1 - beta1) / np.sqrt(1 - beta2)",
            "the moments after t - 1 steps":
                "return (1 - beta1 ** (t - 1)) / np.sqrt(1 - beta2 ** (t - 1))",
            "with bias correction (always 1)":
                "return 1.0",
            "uses course_lib.optim (forbidden)":
                "from course_lib import optim\n"
                "return float(optim.step_ratios(optim.Adam(1.0, beta1, beta2, 0.0, bias_correction=False),\n"
                "                               np.ones(t))[-1])",
        },
        "overshoot_ratio": {
            "Adam's distance over almost Adam's":
                "h = {'learning_rate': 0.001, 'beta1': beta1, 'beta2': beta2, 'eps': 0.0}\n"
                "g = np.array([1.0])\n"
                "xa = xb = np.zeros(1)\n"
                "sa = {'first_moment': np.zeros(1), 'second_moment': np.zeros(1)}\n"
                "sb = {**sa, 't': 0}\n"
                "for _ in range(num_steps):\n"
                "    xa, sa = adam_almost_step(xa, g, sa, **h)\n"
                "    xb, sb = adam_step(xb, g, sb, **h)\n"
                "return float(abs(xb[0]) / abs(xa[0]))",
            "Adam's count starts at t = 1":
                "h = {'learning_rate': 0.001, 'beta1': beta1, 'beta2': beta2, 'eps': 0.0}\n"
                "g = np.array([1.0])\n"
                "xa = xb = np.zeros(1)\n"
                "sa = {'first_moment': np.zeros(1), 'second_moment': np.zeros(1)}\n"
                "sb = {**sa, 't': 1}\n"
                "for _ in range(num_steps):\n"
                "    xa, sa = adam_almost_step(xa, g, sa, **h)\n"
                "    xb, sb = adam_step(xb, g, sb, **h)\n"
                "return float(abs(xa[0]) / abs(xb[0]))",
            "one step too many":
                "h = {'learning_rate': 0.001, 'beta1': beta1, 'beta2': beta2, 'eps': 0.0}\n"
                "g = np.array([1.0])\n"
                "xa = xb = np.zeros(1)\n"
                "sa = {'first_moment': np.zeros(1), 'second_moment': np.zeros(1)}\n"
                "sb = {**sa, 't': 0}\n"
                "for _ in range(num_steps + 1):\n"
                "    xa, sa = adam_almost_step(xa, g, sa, **h)\n"
                "    xb, sb = adam_step(xb, g, sb, **h)\n"
                "return float(abs(xa[0]) / abs(xb[0]))",
            "Adam continues from almost Adam's moments":
                "h = {'learning_rate': 0.001, 'beta1': beta1, 'beta2': beta2, 'eps': 0.0}\n"
                "g = np.array([1.0])\n"
                "xa = xb = np.zeros(1)\n"
                "sa = {'first_moment': np.zeros(1), 'second_moment': np.zeros(1)}\n"
                "for _ in range(num_steps):\n"
                "    xa, sa = adam_almost_step(xa, g, sa, **h)\n"
                "sb = {**sa, 't': 0}\n"
                "for _ in range(num_steps):\n"
                "    xb, sb = adam_step(xb, g, sb, **h)\n"
                "return float(abs(xa[0]) / abs(xb[0]))",
            "uses course_lib.optim (forbidden)":
                "from course_lib import optim\n"
                "adam = optim.Adam(0.001, beta1, beta2, 0.0, bias_correction=False)\n"
                "a = optim.step_ratios(adam, np.ones(num_steps))\n"
                "return float(np.mean(a))",
        },
    },
    "08_schedules": {
        "warmup_cosine": {
            "warmup from 0 (start_factor ignored)":
                "if step < warmup_steps:\n"
                "    return learning_rate * step / warmup_steps\n"
                "t = min(step, total_steps) - warmup_steps\n"
                "return min_learning_rate + (learning_rate - min_learning_rate) * "
                "(1 + np.cos(np.pi * t / (total_steps - warmup_steps))) / 2",
            "warmup reaches the peak a step early ((step + 1) / warmup_steps)":
                "if step < warmup_steps:\n"
                "    return learning_rate * (start_factor + (1 - start_factor) * (step + 1) / warmup_steps)\n"
                "t = min(step, total_steps) - warmup_steps\n"
                "return min_learning_rate + (learning_rate - min_learning_rate) * "
                "(1 + np.cos(np.pi * t / (total_steps - warmup_steps))) / 2",
            "cosine over the whole run (step / total_steps)":
                "if step < warmup_steps:\n"
                "    return learning_rate * (start_factor + (1 - start_factor) * step / warmup_steps)\n"
                "t = min(step, total_steps)\n"
                "return min_learning_rate + (learning_rate - min_learning_rate) * "
                "(1 + np.cos(np.pi * t / total_steps)) / 2",
            "no hold after the end (PyTorch's CosineAnnealingLR climbs back)":
                "if step < warmup_steps:\n"
                "    return learning_rate * (start_factor + (1 - start_factor) * step / warmup_steps)\n"
                "t = step - warmup_steps\n"
                "return min_learning_rate + (learning_rate - min_learning_rate) * "
                "(1 + np.cos(np.pi * t / (total_steps - warmup_steps))) / 2",
            "decays to 0, not to min_learning_rate":
                "if step < warmup_steps:\n"
                "    return learning_rate * (start_factor + (1 - start_factor) * step / warmup_steps)\n"
                "t = min(step, total_steps) - warmup_steps\n"
                "return learning_rate * (1 + np.cos(np.pi * t / (total_steps - warmup_steps))) / 2",
            "warmup factor min(1, ...) divides by warmup_steps = 0":
                "ramp = min(1.0, start_factor + (1 - start_factor) * step / warmup_steps)\n"
                "t = min(max(step, warmup_steps), total_steps) - warmup_steps\n"
                "cosine = min_learning_rate + (learning_rate - min_learning_rate) * "
                "(1 + np.cos(np.pi * t / (total_steps - warmup_steps))) / 2\n"
                "return ramp * cosine if step < warmup_steps else cosine",
            "uses course_lib.schedules (forbidden)":
                "from course_lib import schedules\n"
                "return schedules.warmup_cosine(step, learning_rate, warmup_steps, total_steps, "
                "start_factor, min_learning_rate)",
        },
        "cs231n_momentum_step": {
            "plain CS231n step (the velocity keeps the old rate)":
                "velocity = rho * state['cs231n_velocity'] - learning_rate * dx\n"
                "return x + velocity, {'cs231n_velocity': velocity, 'previous_learning_rate': learning_rate}",
            "rescaled by old rate over new":
                "ratio = state['previous_learning_rate'] / learning_rate\n"
                "velocity = rho * ratio * state['cs231n_velocity'] - learning_rate * dx\n"
                "return x + velocity, {'cs231n_velocity': velocity, 'previous_learning_rate': learning_rate}",
            "rescales the gradient term, not the velocity":
                "ratio = learning_rate / state['previous_learning_rate']\n"
                "velocity = rho * state['cs231n_velocity'] - ratio * learning_rate * dx\n"
                "return x + velocity, {'cs231n_velocity': velocity, 'previous_learning_rate': learning_rate}",
            "keeps the previous rate in the state":
                "ratio = learning_rate / state['previous_learning_rate']\n"
                "velocity = rho * ratio * state['cs231n_velocity'] - learning_rate * dx\n"
                "return x + velocity, {'cs231n_velocity': velocity,\n"
                "                      'previous_learning_rate': state['previous_learning_rate']}",
            "stores the velocity with PyTorch's sign":
                "ratio = learning_rate / state['previous_learning_rate']\n"
                "velocity = rho * ratio * state['cs231n_velocity'] + learning_rate * dx\n"
                "return x - velocity, {'cs231n_velocity': -velocity,\n"
                "                      'previous_learning_rate': learning_rate}",
            "rescales the caller's velocity in place":
                "state['cs231n_velocity'] *= learning_rate / state['previous_learning_rate']\n"
                "velocity = rho * state['cs231n_velocity'] - learning_rate * dx\n"
                "return x + velocity, {'cs231n_velocity': velocity, 'previous_learning_rate': learning_rate}",
            "uses course_lib.optim (forbidden)":
                "from course_lib import optim\n"
                "v = {'velocity': state['cs231n_velocity'] / -state['previous_learning_rate']}\n"
                "x_next, v = optim.momentum_step(x, dx, v, learning_rate=learning_rate, rho=rho)\n"
                "return x_next, {'cs231n_velocity': -learning_rate * v['velocity'],\n"
                "                'previous_learning_rate': learning_rate}",
        },
        "steps_to_new_floor": {
            "contraction of x, not of x^2 (no square)":
                "def floor(a):\n"
                "    return a / (curvature * (2 - a * curvature))\n"
                "r = excess * floor(lr_after) / (floor(lr_before) - floor(lr_after))\n"
                "return float(np.log(r) / np.log(abs(1 - lr_after * curvature)))",
            "small-step floors alpha s^2 / (2 lambda)":
                "r = excess * lr_after / (lr_before - lr_after)\n"
                "return float(np.log(r) / np.log((1 - lr_after * curvature) ** 2))",
            "log(1 - alpha lambda) squared outside (nan for alpha lambda > 1)":
                "def floor(a):\n"
                "    return a / (curvature * (2 - a * curvature))\n"
                "r = excess * floor(lr_after) / (floor(lr_before) - floor(lr_after))\n"
                "return float(np.log(r) / (2 * np.log(1 - lr_after * curvature)))",
            "excess relative to the old floor":
                "def floor(a):\n"
                "    return a / (curvature * (2 - a * curvature))\n"
                "r = excess * floor(lr_before) / (floor(lr_before) - floor(lr_after))\n"
                "return float(np.log(r) / np.log((1 - lr_after * curvature) ** 2))",
            "the old learning rate in the contraction":
                "def floor(a):\n"
                "    return a / (curvature * (2 - a * curvature))\n"
                "r = excess * floor(lr_after) / (floor(lr_before) - floor(lr_after))\n"
                "return float(np.log(r) / np.log((1 - lr_before * curvature) ** 2))",
            "rounded up to whole steps":
                "def floor(a):\n"
                "    return a / (curvature * (2 - a * curvature))\n"
                "r = excess * floor(lr_after) / (floor(lr_before) - floor(lr_after))\n"
                "return float(np.ceil(np.log(r) / np.log((1 - lr_after * curvature) ** 2)))",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\n"
                "theory.gd_optimal\n"
                "r = excess * lr_after * (2 - lr_before * curvature) / (2 * (lr_before - lr_after))\n"
                "return float(np.log(r) / np.log((1 - lr_after * curvature) ** 2))",
        },
        "floor_ratio": {
            "never drops the learning rate":
                "problem = Quadratic(np.diag(eigenvalues))\n"
                "rng = np.random.default_rng(seed)\n"
                "x, floors = np.zeros(len(eigenvalues)), []\n"
                "for _ in range(2):\n"
                "    distances = []\n"
                "    for _ in range(num_steps):\n"
                "        x = x - learning_rate * (problem.grad(x) + noise * rng.standard_normal(len(x)))\n"
                "        distances.append(x @ x)\n"
                "    floors.append(np.mean(distances[num_steps // 2:]))\n"
                "return float(floors[1] / floors[0])",
            "noise not scaled by the learning rate":
                "problem = Quadratic(np.diag(eigenvalues))\n"
                "rng = np.random.default_rng(seed)\n"
                "x, floors = np.zeros(len(eigenvalues)), []\n"
                "for rate in (learning_rate, factor * learning_rate):\n"
                "    distances = []\n"
                "    for _ in range(num_steps):\n"
                "        x = x - rate * problem.grad(x) - noise * rng.standard_normal(len(x))\n"
                "        distances.append(x @ x)\n"
                "    floors.append(np.mean(distances[num_steps // 2:]))\n"
                "return float(floors[1] / floors[0])",
            "the ratio inverted (before over after)":
                "problem = Quadratic(np.diag(eigenvalues))\n"
                "rng = np.random.default_rng(seed)\n"
                "x, floors = np.zeros(len(eigenvalues)), []\n"
                "for rate in (learning_rate, factor * learning_rate):\n"
                "    distances = []\n"
                "    for _ in range(num_steps):\n"
                "        x = x - rate * (problem.grad(x) + noise * rng.standard_normal(len(x)))\n"
                "        distances.append(x @ x)\n"
                "    floors.append(np.mean(distances[num_steps // 2:]))\n"
                "return float(floors[0] / floors[1])",
            "the factor applied twice (rate * factor**2)":
                "problem = Quadratic(np.diag(eigenvalues))\n"
                "rng = np.random.default_rng(seed)\n"
                "x, floors = np.zeros(len(eigenvalues)), []\n"
                "for rate in (learning_rate, factor**2 * learning_rate):\n"
                "    distances = []\n"
                "    for _ in range(num_steps):\n"
                "        x = x - rate * (problem.grad(x) + noise * rng.standard_normal(len(x)))\n"
                "        distances.append(x @ x)\n"
                "    floors.append(np.mean(distances[num_steps // 2:]))\n"
                "return float(floors[1] / floors[0])",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\n"
                "theory.gd_optimal\n"
                "lam = np.asarray(eigenvalues)\n"
                "def floor(a):\n"
                "    return np.sum(a / (lam * (2 - a * lam)))\n"
                "return float(floor(factor * learning_rate) / floor(learning_rate))",
        },
    },
    "09_newton_lbfgs": {
        "newton_step": {
            "saddle-free step (|H|) instead of Newton's":
                'e, V = np.linalg.eigh(hessian)\n'
                'return x - V @ ((V.T @ grad) / np.abs(e))',
            'Cholesky solve (positive definite H only)':
                'L = np.linalg.cholesky(hessian)\n'
                'return x - np.linalg.solve(L.T, np.linalg.solve(L, grad))',
            'float32 arithmetic':
                'return x - np.linalg.solve(hessian.astype(np.float32), grad.astype(np.float32))',
            "H instead of H^-1": "return x - hessian @ grad",
            "sign error": "return x + np.linalg.solve(hessian, grad)",
            "diagonal Hessian only": "return x - grad / np.diag(hessian)",
            "uses scipy.optimize (forbidden)":
                "from scipy.optimize import minimize\n"
                "return minimize(lambda z: 0.5 * z @ hessian @ z - (hessian @ x - grad) @ z, x, "
                "jac=lambda z: hessian @ z - (hessian @ x - grad), method='BFGS', tol=1e-14).x",
        },
        "backtracking_line_search": {
            'moves x in place while searching':
                'fx, slope = f(x), grad(x) @ direction\n'
                'if slope >= 0:\n'
                '    return 0.0\n'
                'alpha = step\n'
                'x += alpha * direction\n'
                'while f(x) > fx + c1 * alpha * slope:\n'
                '    x -= alpha * direction\n'
                '    alpha *= shrink\n'
                '    x += alpha * direction\n'
                'return alpha',
            "no descent test (shrinks until x + alpha p rounds to x)":
                "fx, slope = f(x), grad(x) @ direction\nalpha = step\n"
                "while f(x + alpha * direction) > fx + c1 * alpha * slope:\n"
                "    alpha *= shrink\nreturn alpha",
            "a zero slope taken for descent":
                "fx, slope = f(x), grad(x) @ direction\nif slope > 0:\n    return 0.0\nalpha = step\n"
                "while f(x + alpha * direction) > fx + c1 * alpha * slope:\n"
                "    alpha *= shrink\nreturn alpha",
            "no c1 (plain decrease)":
                "if grad(x) @ direction >= 0:\n    return 0.0\nalpha = step\n"
                "while f(x + alpha * direction) > f(x):\n    alpha *= shrink\nreturn alpha",
            "sufficient-decrease sign flipped":
                "slope = grad(x) @ direction\nif slope >= 0:\n    return 0.0\nalpha = step\n"
                "while f(x + alpha * direction) > f(x) - c1 * alpha * slope:\n"
                "    alpha *= shrink\nreturn alpha",
            "one shrink too many":
                "slope = grad(x) @ direction\nif slope >= 0:\n    return 0.0\nalpha = step * shrink\n"
                "while f(x + alpha * direction) > f(x) + c1 * alpha * slope:\n"
                "    alpha *= shrink\nreturn alpha",
            "uses the gradient norm instead of the slope":
                "if grad(x) @ direction >= 0:\n    return 0.0\n"
                "slope = -np.linalg.norm(grad(x))\nalpha = step\n"
                "while f(x + alpha * direction) > f(x) + c1 * alpha * slope:\n"
                "    alpha *= shrink\nreturn alpha",
            "the slope at the trial point":
                "if grad(x) @ direction >= 0:\n    return 0.0\nalpha = step\n"
                "while (f(x + alpha * direction)\n"
                "       > f(x) + c1 * alpha * (grad(x + alpha * direction) @ direction)):\n"
                "    alpha *= shrink\nreturn alpha",
            "Rosenbrock hard-coded (ignores f and grad)":
                "from course_lib.problems import Rosenbrock\n"
                "p = Rosenbrock(dim=len(x))\nslope = p.grad(x) @ direction\nif slope >= 0:\n    return 0.0\n"
                "alpha = step\n"
                "while p.loss(x + alpha * direction) > p.loss(x) + c1 * alpha * slope:\n    alpha *= shrink\n"
                "return alpha",
            "uses course_lib.second_order (forbidden)":
                "from course_lib import second_order\n"
                "if grad(x) @ direction >= 0:\n    return 0.0\n"
                "search = second_order.backtracking_line_search(f, x, direction, f(x), grad(x), step, c1,\n"
                "                                              shrink, maxiter=10**6)\n"
                "return search.step",
        },
        "two_loop_recursion": {
            "overwrites the caller's g (q = g; q -= ...)":
                'q = g\n'
                'rhos = [1.0 / (y @ s) for s, y in zip(s_history, y_history)]\n'
                'alphas = []\n'
                'for s, y, rho in zip(s_history[::-1], y_history[::-1], rhos[::-1]):\n'
                '    a = rho * (s @ q)\n'
                '    q -= a * y\n'
                '    alphas.append(a)\n'
                'r = (s_history[-1] @ y_history[-1]) / (y_history[-1] @ y_history[-1]) * q\n'
                'for s, y, rho, a in zip(s_history, y_history, rhos, alphas[::-1]):\n'
                '    r = r + (a - rho * (y @ r)) * s\n'
                'return r',
            "reverses the caller's lists":
                's_history.reverse()\n'
                'y_history.reverse()\n'
                'q = np.array(g, dtype=float)\n'
                'rhos = [1.0 / (y @ s) for s, y in zip(s_history, y_history)]\n'
                'alphas = []\n'
                'for s, y, rho in zip(s_history, y_history, rhos):\n'
                '    a = rho * (s @ q)\n'
                '    q = q - a * y\n'
                '    alphas.append(a)\n'
                'r = (s_history[0] @ y_history[0]) / (y_history[0] @ y_history[0]) * q\n'
                'for s, y, rho, a in zip(s_history[::-1], y_history[::-1], rhos[::-1], alphas[::-1]):\n'
                '    r = r + (a - rho * (y @ r)) * s\n'
                'return r',
            "no initial scaling (gamma = 1)":
                "q = np.array(g, dtype=float)\nrhos = [1.0 / (y @ s) for s, y in zip(s_history, y_history)]\n"
                "alphas = []\nfor s, y, rho in zip(s_history[::-1], y_history[::-1], rhos[::-1]):\n"
                "    a = rho * (s @ q)\n    q = q - a * y\n    alphas.append(a)\nr = q\n"
                "for s, y, rho, a in zip(s_history, y_history, rhos, alphas[::-1]):\n"
                "    r = r + (a - rho * (y @ r)) * s\nreturn r",
            "first loop oldest to newest":
                "q = np.array(g, dtype=float)\nrhos = [1.0 / (y @ s) for s, y in zip(s_history, y_history)]\n"
                "alphas = []\nfor s, y, rho in zip(s_history, y_history, rhos):\n"
                "    a = rho * (s @ q)\n    q = q - a * y\n    alphas.append(a)\n"
                "r = (s_history[-1] @ y_history[-1]) / (y_history[-1] @ y_history[-1]) * q\n"
                "for s, y, rho, a in zip(s_history, y_history, rhos, alphas):\n"
                "    r = r + (a - rho * (y @ r)) * s\nreturn r",
            "gamma from the oldest pair":
                "q = np.array(g, dtype=float)\nrhos = [1.0 / (y @ s) for s, y in zip(s_history, y_history)]\n"
                "alphas = []\nfor s, y, rho in zip(s_history[::-1], y_history[::-1], rhos[::-1]):\n"
                "    a = rho * (s @ q)\n    q = q - a * y\n    alphas.append(a)\n"
                "r = (s_history[0] @ y_history[0]) / (y_history[0] @ y_history[0]) * q\n"
                "for s, y, rho, a in zip(s_history, y_history, rhos, alphas[::-1]):\n"
                "    r = r + (a - rho * (y @ r)) * s\nreturn r",
            "fails with no pairs (gamma from a pair that is not there)":
                "q = np.array(g, dtype=float)\nrhos = [1.0 / (y @ s) for s, y in zip(s_history, y_history)]\n"
                "alphas = []\nfor s, y, rho in zip(s_history[::-1], y_history[::-1], rhos[::-1]):\n"
                "    a = rho * (s @ q)\n    q = q - a * y\n    alphas.append(a)\n"
                "r = (s_history[-1] @ y_history[-1]) / (y_history[-1] @ y_history[-1]) * q\n"
                "for s, y, rho, a in zip(s_history, y_history, rhos, alphas[::-1]):\n"
                "    r = r + (a - rho * (y @ r)) * s\nreturn r",
            "returns the direction -H g":
                "q = np.array(g, dtype=float)\nif not s_history:\n    return -q\n"
                "rhos = [1.0 / (y @ s) for s, y in zip(s_history, y_history)]\n"
                "alphas = []\nfor s, y, rho in zip(s_history[::-1], y_history[::-1], rhos[::-1]):\n"
                "    a = rho * (s @ q)\n    q = q - a * y\n    alphas.append(a)\n"
                "r = (s_history[-1] @ y_history[-1]) / (y_history[-1] @ y_history[-1]) * q\n"
                "for s, y, rho, a in zip(s_history, y_history, rhos, alphas[::-1]):\n"
                "    r = r + (a - rho * (y @ r)) * s\nreturn -r",
            "uses course_lib.second_order (forbidden)":
                "from course_lib.second_order import two_loop_recursion as reference\n"
                "return reference(g, list(s_history), list(y_history))",
        },
        "newton_rate": {
            "the fraction removed, 1 / (p - 1)":
                "return 1.0 / (power - 1.0)",
            "(p - 1) / p":
                "return (power - 1.0) / power",
            "quadratic convergence assumed (0)":
                "return 0.0",
            "(p - 2) / p":
                "return (power - 2.0) / power",
            "uses course_lib.second_order (forbidden)":
                "from course_lib import second_order\n"
                "second_order.newton\n"
                "return (power - 2.0) / (power - 1.0)",
        },
        "measured_newton_rate": {
            "gradient descent (learning rate 0.1) instead of Newton":
                'x = np.array([float(x0)])\n'
                'for _ in range(num_steps):\n'
                '    previous = x\n'
                '    x = x - 0.1 * (x**3 + x**5)\n'
                'return float(abs(x[0]) / abs(previous[0]))',
            "the ratio inverted, |x_(N-1) / x_N|":
                'x = np.array([float(x0)])\n'
                'for _ in range(num_steps):\n'
                '    previous = x\n'
                '    x = newton_step(x, x**3 + x**5, np.array([[3 * x[0] ** 2 + 5 * x[0] ** 4]]))\n'
                'return float(abs(previous[0]) / abs(x[0]))',
            "the first step's ratio":
                "x1 = newton_step(np.array([float(x0)]), np.array([x0**3 + x0**5]), "
                "np.array([[3 * x0**2 + 5 * x0**4]]))\n"
                "return float(abs(x1[0]) / abs(x0))",
            "returns |x_N| instead of the ratio":
                'x = np.array([float(x0)])\n'
                'for _ in range(num_steps):\n'
                '    previous = x\n'
                '    x = newton_step(x, x**3 + x**5, np.array([[3 * x[0] ** 2 + 5 * x[0] ** 4]]))\n'
                'return float(abs(x[0]))',
            "uses course_lib.second_order (forbidden)":
                "from course_lib import second_order\n"
                "second_order.newton\n"
                "return 2.0 / 3.0",
        },
    },
    '10_capstone': {
        'wolfe_interval': {
            'weak Wolfe: no upper end from the curvature condition':
                'a = -(grad @ direction) / (direction @ hessian @ direction)\n'
                'return (1 - c2) * a, 2 * (1 - c1) * a',
            'curvature condition only (sufficient decrease forgotten)':
                'a = -(grad @ direction) / (direction @ hessian @ direction)\n'
                'return (1 - c2) * a, (1 + c2) * a',
            'sufficient decrease without the factor 2':
                'a = -(grad @ direction) / (direction @ hessian @ direction)\n'
                'return (1 - c2) * a, min(1 + c2, 1 - c1) * a',
            'float32 arithmetic':
                'h, g, p = (np.asarray(v, dtype=np.float32) for v in (hessian, grad, direction))\n'
                'a = -(g @ p) / (p @ h @ p)\n'
                'return (1 - c2) * a, min(1 + c2, 2 * (1 - c1)) * a',
        },
        'line_search_step': {
            "weak Wolfe: accepts phi' >= c2 phi'(0)":
                "alpha = search['alpha']\n"
                'trial = np.array([alpha, phi, dphi])\n'
                "lo, hi = search['lo'], search['hi']\n"
                "if phi > search['phi0'] + c1 * alpha * search['dphi0'] or phi >= lo[1]:\n"
                '    hi = trial\n'
                "elif dphi >= c2 * search['dphi0']:\n"
                "    return {**search, 'done': True}\n"
                'else:\n'
                '    if (dphi >= 0) if hi is None else (dphi * (hi[0] - lo[0]) >= 0):\n'
                '        hi = lo\n'
                '    lo = trial\n'
                'if hi is None:\n'
                "    return {**search, 'lo': lo, 'alpha': 2 * alpha}\n"
                "return {**search, 'lo': lo, 'hi': hi, 'alpha': 0.5 * (lo[0] + hi[0])}",
            'Armijo only: accepts the first trial with sufficient decrease':
                "alpha = search['alpha']\n"
                'trial = np.array([alpha, phi, dphi])\n'
                "lo, hi = search['lo'], search['hi']\n"
                "if phi <= search['phi0'] + c1 * alpha * search['dphi0'] and phi < lo[1]:\n"
                "    return {**search, 'done': True}\n"
                'hi = trial\n'
                'if hi is None:\n'
                "    return {**search, 'lo': lo, 'alpha': 2 * alpha}\n"
                "return {**search, 'lo': lo, 'hi': hi, 'alpha': 0.5 * (lo[0] + hi[0])}",
            'halves alpha instead of doubling it before a bracket is known':
                "alpha = search['alpha']\n"
                'trial = np.array([alpha, phi, dphi])\n'
                "lo, hi = search['lo'], search['hi']\n"
                "if phi > search['phi0'] + c1 * alpha * search['dphi0'] or phi >= lo[1]:\n"
                '    hi = trial\n'
                "elif abs(dphi) <= -c2 * search['dphi0']:\n"
                "    return {**search, 'done': True}\n"
                'else:\n'
                '    if (dphi >= 0) if hi is None else (dphi * (hi[0] - lo[0]) >= 0):\n'
                '        hi = lo\n'
                '    lo = trial\n'
                'if hi is None:\n'
                "    return {**search, 'lo': lo, 'alpha': 0.5 * alpha}\n"
                "return {**search, 'lo': lo, 'hi': hi, 'alpha': 0.5 * (lo[0] + hi[0])}",
            'modifies search in place':
                "alpha = search['alpha']\n"
                'trial = np.array([alpha, phi, dphi])\n'
                "lo, hi = search['lo'], search['hi']\n"
                "if phi > search['phi0'] + c1 * alpha * search['dphi0'] or phi >= lo[1]:\n"
                '    hi = trial\n'
                "elif abs(dphi) <= -c2 * search['dphi0']:\n"
                "    search['done'] = True\n"
                '    return search\n'
                'else:\n'
                '    if (dphi >= 0) if hi is None else (dphi * (hi[0] - lo[0]) >= 0):\n'
                '        hi = lo\n'
                '    lo = trial\n'
                "search['lo'], search['hi'] = lo, hi\n"
                "search['alpha'] = 2 * alpha if hi is None else 0.5 * (lo[0] + hi[0])\n"
                'return search',
            "uses course_lib.second_order's interpolation (forbidden)":
                'from course_lib import second_order\n'
                "alpha = search['alpha']\n"
                'trial = np.array([alpha, phi, dphi])\n'
                "lo, hi = search['lo'], search['hi']\n"
                "if phi > search['phi0'] + c1 * alpha * search['dphi0'] or phi >= lo[1]:\n"
                '    hi = trial\n'
                "elif abs(dphi) <= -c2 * search['dphi0']:\n"
                "    return {**search, 'done': True}\n"
                'else:\n'
                '    if (dphi >= 0) if hi is None else (dphi * (hi[0] - lo[0]) >= 0):\n'
                '        hi = lo\n'
                '    lo = trial\n'
                'if hi is None:\n'
                "    return {**search, 'lo': lo, 'alpha': 2 * alpha}\n"
                "return {**search, 'lo': lo, 'hi': hi, 'alpha': float(second_order._interpolate(lo, hi))}",
        },
        'lbfgs_step': {
            'no initial scaling (H0 = I)':
                'def two_loop(g, S, Y):\n'
                '    q, a_list = g, []\n'
                '    for s, y in zip(reversed(S), reversed(Y)):\n'
                '        a = (s @ q) / (y @ s)\n'
                '        q = q - a * y\n'
                '        a_list.append(a)\n'
                '    r = 1.0 * q\n'
                '    for s, y, a in zip(S, Y, reversed(a_list)):\n'
                '        r = r + (a - (y @ r) / (y @ s)) * s\n'
                '    return r\n'
                'if state:\n'
                "    d = state['direction']\n"
                "    search = line_search_step(state['search'], loss, dx @ d, c1, c2)\n"
                "    if not search['done']:\n"
                "        return state['start'] + search['alpha'] * d, {**state, 'search': search}\n"
                "    S = [*state['S'], x - state['start']][-memory:]\n"
                "    Y = [*state['Y'], dx - state['grad']][-memory:]\n"
                '    p, alpha = -two_loop(dx, S, Y), 1.0\n'
                'else:\n'
                '    S, Y, p, alpha = [], [], -dx, 1.0 / np.linalg.norm(dx)\n'
                'slope = dx @ p\n'
                "search = {'phi0': loss, 'dphi0': slope, 'alpha': alpha, 'hi': None, 'done': False,\n"
                "          'lo': np.array([0.0, loss, slope])}\n"
                "state = {'start': x, 'grad': dx, 'direction': p, 'search': search}\n"
                "return x + alpha * p, {**state, 'S': S, 'Y': Y}",
            'y with the wrong sign (g_old - g_new)':
                'def two_loop(g, S, Y):\n'
                '    q, a_list = g, []\n'
                '    for s, y in zip(reversed(S), reversed(Y)):\n'
                '        a = (s @ q) / (y @ s)\n'
                '        q = q - a * y\n'
                '        a_list.append(a)\n'
                '    r = (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1]) * q\n'
                '    for s, y, a in zip(S, Y, reversed(a_list)):\n'
                '        r = r + (a - (y @ r) / (y @ s)) * s\n'
                '    return r\n'
                'if state:\n'
                "    d = state['direction']\n"
                "    search = line_search_step(state['search'], loss, dx @ d, c1, c2)\n"
                "    if not search['done']:\n"
                "        return state['start'] + search['alpha'] * d, {**state, 'search': search}\n"
                "    S = [*state['S'], x - state['start']][-memory:]\n"
                "    Y = [*state['Y'], state['grad'] - dx][-memory:]\n"
                '    p, alpha = -two_loop(dx, S, Y), 1.0\n'
                'else:\n'
                '    S, Y, p, alpha = [], [], -dx, 1.0 / np.linalg.norm(dx)\n'
                'slope = dx @ p\n'
                "search = {'phi0': loss, 'dphi0': slope, 'alpha': alpha, 'hi': None, 'done': False,\n"
                "          'lo': np.array([0.0, loss, slope])}\n"
                "state = {'start': x, 'grad': dx, 'direction': p, 'search': search}\n"
                "return x + alpha * p, {**state, 'S': S, 'Y': Y}",
            'gamma from the oldest pair, keeps the oldest pairs':
                'def two_loop(g, S, Y):\n'
                '    q, a_list = g, []\n'
                '    for s, y in zip(reversed(S), reversed(Y)):\n'
                '        a = (s @ q) / (y @ s)\n'
                '        q = q - a * y\n'
                '        a_list.append(a)\n'
                '    r = (S[0] @ Y[0]) / (Y[0] @ Y[0]) * q\n'
                '    for s, y, a in zip(S, Y, reversed(a_list)):\n'
                '        r = r + (a - (y @ r) / (y @ s)) * s\n'
                '    return r\n'
                'if state:\n'
                "    d = state['direction']\n"
                "    search = line_search_step(state['search'], loss, dx @ d, c1, c2)\n"
                "    if not search['done']:\n"
                "        return state['start'] + search['alpha'] * d, {**state, 'search': search}\n"
                "    S = [*state['S'], x - state['start']][:memory]\n"
                "    Y = [*state['Y'], dx - state['grad']][:memory]\n"
                '    p, alpha = -two_loop(dx, S, Y), 1.0\n'
                'else:\n'
                '    S, Y, p, alpha = [], [], -dx, 1.0 / np.linalg.norm(dx)\n'
                'slope = dx @ p\n'
                "search = {'phi0': loss, 'dphi0': slope, 'alpha': alpha, 'hi': None, 'done': False,\n"
                "          'lo': np.array([0.0, loss, slope])}\n"
                "state = {'start': x, 'grad': dx, 'direction': p, 'search': search}\n"
                "return x + alpha * p, {**state, 'S': S, 'Y': Y}",
            'knows the answer is all ones (ignores what it is told)':
                'return np.ones_like(x), {}',
        },
        'adam_step': {
            'no bias correction':
                "t = state['t'] + 1\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                "state = {'first_moment': m, 'second_moment': v, 't': t}\n"
                'return x - learning_rate * m / (np.sqrt(v) + eps), state',
            't used before it is incremented':
                "t = state['t']\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                'm_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)\n'
                "state = {'first_moment': m, 'second_moment': v, 't': t + 1}\n"
                'return x - learning_rate * m_hat / (np.sqrt(v_hat) + eps), state',
            'eps inside the square root':
                "t = state['t'] + 1\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                'step = learning_rate * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps)\n'
                "return x - step, {'first_moment': m, 'second_moment': v, 't': t}",
            'modifies state in place':
                "state['t'] += 1\n"
                "t = state['t']\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx * dx\n"
                'step = learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)\n'
                "return x - step, {'first_moment': m, 'second_moment': v, 't': t}",
            'uses course_lib.optim (forbidden)':
                'from course_lib import optim\n'
                'return optim.adam_step(x, dx, state, learning_rate=learning_rate,\n'
                '                       beta1=beta1, beta2=beta2, eps=eps)',
        },
        'adam_settings': {
            'the usual default learning rate 1e-3 (too slow for 400 steps)':
                "return {'learning_rate': 1e-3}",
            'learning rate 0.3 (too large)':
                "return {'learning_rate': 0.3}",
            'beta1 and beta2 swapped':
                "return {'learning_rate': 0.02, 'beta1': 0.999, 'beta2': 0.9}",
            "the learning rate under PyTorch's name lr":
                "return {'lr': 0.02}",
        },
    },
}

# Correct answers written differently from the key (other formulations, other numerics): the checks
# must accept them under every grading seed (no false alarms).
CONTROLS = {
    '01_conditioning': {
        'condition_number': {
            'absolute eigenvalues':
                'e = np.abs(np.linalg.eigvalsh(hessian))\n'
                'return e.max() / e.min()',
            'eigenvalues of H^T H (kappa^2 roundoff)':
                'e = np.linalg.eigvalsh(hessian.T @ hessian)\n'
                'return np.sqrt(e[-1] / e[0])',
            'norm of H times norm of its inverse':
                'return np.linalg.norm(hessian, 2) * np.linalg.norm(np.linalg.inv(hessian), 2)',
        },
        'max_stable_learning_rate': {
            'spectral norm':
                'return 2 / np.linalg.norm(hessian, 2)',
            'largest of np.linalg.eig':
                'return 2 / np.max(np.linalg.eig(hessian)[0].real)',
        },
        'gd_step': {
            'np.subtract':
                'return np.subtract(x, learning_rate * dx)',
            'in place on a copy':
                'x_next = x.copy()\n'
                'x_next -= learning_rate * dx\n'
                'return x_next',
        },
        'optimal_fixed_step': {
            'through kappa, from singular values':
                's = np.linalg.svd(hessian, compute_uv=False)\n'
                'kappa = s[0] / s[-1]\n'
                'return 2.0 / (s[0] + s[-1]), (kappa - 1.0) / (kappa + 1.0)',
            'np.linalg.eig, sorted':
                'e = np.sort(np.linalg.eig(hessian)[0].real)\n'
                'alpha = 2.0 / (e[0] + e[-1])\n'
                'return alpha, max(abs(1 - alpha * e[0]), abs(1 - alpha * e[-1]))',
        },
        'steps_to_tolerance': {
            'counts in a for loop, without gd_step':
                'x1, x2, start = 1.0, 1.0, np.hypot(1.0, 1.0)\n'
                'for steps in range(10**7):\n'
                '    if np.hypot(x1, x2) <= tol * start:\n'
                '        return steps\n'
                '    x1, x2 = x1 - x1 / kappa, x2 - x2',
            'the closed form of the theory':
                'import math\n'
                'return math.ceil(math.log(tol * math.sqrt(2)) / math.log1p(-1 / kappa))',
        },
        'fitted_exponent': {
            'least squares by np.linalg.lstsq':
                'steps = np.array([steps_to_tolerance(k, tol) for k in kappas], dtype=float)\n'
                'design = np.column_stack([np.log(kappas), np.ones(len(kappas))])\n'
                'return np.linalg.lstsq(design, np.log(steps), rcond=None)[0][0]',
            'covariance over variance, base-10 logs':
                'u = np.log10(kappas)\n'
                'v = np.log10([steps_to_tolerance(k, tol) for k in kappas])\n'
                'return np.sum((u - u.mean()) * (v - v.mean())) / np.sum((u - u.mean()) ** 2)',
        },
    },
    '02_minima_saddles': {
        'classify_critical_point': {
            'np.linalg.eigvals, sorted':
                'e = np.sort(np.linalg.eigvals(hessian).real)\n'
                'scale = max(abs(e[0]), abs(e[-1]))\n'
                'if scale == 0 or np.min(np.abs(e)) <= tol * scale:\n'
                "    return 'degenerate'\n"
                "return 'minimum' if e[0] > 0 else 'maximum' if e[-1] < 0 else 'saddle'",
            'spectral norm and counts':
                'e = np.linalg.eigvalsh(hessian)\n'
                'scale = np.linalg.norm(hessian, 2)\n'
                'if np.sum(np.abs(e) <= tol * scale) > 0:\n'
                "    return 'degenerate'\n"
                'positive = np.sum(e > 0)\n'
                "return {len(e): 'minimum', 0: 'maximum'}.get(positive, 'saddle')",
        },
        'fraction_positive_definite': {
            'one matrix at a time from the same stream':
                'rng = np.random.default_rng(seed)\n'
                'count = 0\n'
                'for _ in range(num_samples):\n'
                '    A = rng.standard_normal((n, n))\n'
                '    count += np.linalg.eigvalsh((A + A.T) / 2)[0] > 0\n'
                'return count / num_samples',
            'Cholesky succeeds':
                'A = np.random.default_rng(seed).standard_normal((num_samples, n, n))\n'
                'count = 0\n'
                'for H in (A + np.swapaxes(A, 1, 2)) / 2:\n'
                '    try:\n'
                '        np.linalg.cholesky(H)\n'
                '        count += 1\n'
                '    except np.linalg.LinAlgError:\n'
                '        pass\n'
                'return count / num_samples',
        },
        'saddle_free_newton_step': {
            'solve with |H|':
                'e, V = np.linalg.eigh(hessian)\n'
                'abs_h = V @ np.diag(np.abs(e)) @ V.T\n'
                'return x - np.linalg.solve(abs_h, grad)',
            'np.linalg.eig with the inverse of V':
                'e, V = np.linalg.eig(hessian)\n'
                'return x - (V @ np.diag(1 / np.abs(e)) @ np.linalg.inv(V) @ grad).real',
        },
        'escape_time': {
            'log base (1 + 2 alpha) with math.log':
                'import math\n'
                'return math.log(1 / abs(y0), 1 + 2 * learning_rate)',
            'negative logarithms':
                'return -np.log(np.abs(y0)) / np.log(1.0 + 2.0 * learning_rate)',
        },
        'saddle_free_escape_steps': {
            'while loop, point as a list':
                'H = np.array([[1.0, 0.0], [0.0, -curvature]])\n'
                'x, y = 1.0, y0\n'
                'steps = 0\n'
                'while abs(y) < 1 and steps < 100:\n'
                '    x, y = saddle_free_newton_step(np.array([x, y]), np.array([x, -curvature * y]), H)\n'
                '    steps += 1\n'
                'return steps',
            'the theory (y doubles per step)':
                'return int(np.ceil(-np.log2(abs(y0))))',
        },
    },
    '03_minibatch_noise': {
        'minibatch_gradient': {
            'mean over a list':
                'return np.mean([(A[i] @ x - b[i]) * A[i] for i in indices], axis=0)',
            'weights from np.bincount':
                'w = np.bincount(indices, minlength=len(A)) / len(indices)\n'
                'return A.T @ (w * (A @ x - b))',
        },
        'minibatch_variance': {
            'squared deviations':
                'N = len(per_example_grads)\n'
                'deviations = per_example_grads - per_example_grads.mean(axis=0)\n'
                'return np.sum(deviations**2) / N / batch_size * (N - batch_size) / (N - 1)',
            'trace of the covariance':
                'N = len(per_example_grads)\n'
                'sigma2 = np.trace(np.cov(per_example_grads.T, bias=True))\n'
                'return sigma2 * (N - batch_size) / (batch_size * (N - 1))',
        },
        'sgd_noise_floor': {
            'from the recursion v = (1 - a c)^2 v + a^2 s^2':
                'factor = (1 - learning_rate * curvature) ** 2\n'
                'return learning_rate**2 * variance / (1 - factor)',
            'in terms of alpha lambda':
                'h = learning_rate * curvature\n'
                'return variance * h / (curvature**2 * (2 - h))',
        },
        'noise_floor_slope': {
            'a generator per batch size, the excess loss as the floor':
                'x_star = np.linalg.lstsq(A, b, rcond=None)[0]\n'
                'log_floors = []\n'
                'for batch_size in batch_sizes:\n'
                '    rng = np.random.default_rng([seed, batch_size])\n'
                '    x, excess = x_star, 0.0\n'
                '    for k in range(num_steps):\n'
                '        g = minibatch_gradient(A, b, x, rng.integers(len(A), size=batch_size))\n'
                '        x = x - learning_rate * g\n'
                '        if k >= num_steps // 2:\n'
                '            excess += 0.5 * np.mean((A @ (x - x_star)) ** 2)\n'
                '    log_floors.append(np.log(excess))\n'
                'u, v = np.log(batch_sizes), np.array(log_floors)\n'
                'return np.sum((u - u.mean()) * (v - v.mean())) / np.sum((u - u.mean()) ** 2)',
            'every step stored in an array':
                'x_star = np.linalg.solve(A.T @ A, A.T @ b)\n'
                'rng = np.random.default_rng(seed)\n'
                'floors = np.empty(len(batch_sizes))\n'
                'for j, batch_size in enumerate(batch_sizes):\n'
                '    path = np.empty((num_steps, len(x_star)))\n'
                '    x = x_star.copy()\n'
                '    for k in range(num_steps):\n'
                '        indices = rng.integers(0, len(A), batch_size)\n'
                '        x = x - learning_rate * minibatch_gradient(A, b, x, indices)\n'
                '        path[k] = x\n'
                '    floors[j] = np.mean(np.sum((path[num_steps // 2:] - x_star) ** 2, axis=1))\n'
                'return np.polyfit(np.log2(batch_sizes), np.log2(floors), 1)[0]',
        },
    },
    '04_momentum': {
        'momentum_step': {
            'in place on a new array':
                "velocity = state['velocity'] * rho\n"
                'velocity += dx\n'
                "return x - learning_rate * velocity, {'velocity': velocity}",
            'np.add and a copied state':
                'new_state = dict(state)\n'
                "new_state['velocity'] = np.add(rho * state['velocity'], dx)\n"
                "return x - learning_rate * new_state['velocity'], new_state",
        },
        'momentum_to_cs231n': {
            'np.negative':
                'return np.negative(velocity) * learning_rate',
            'multiply by -1':
                'return (-1.0 * learning_rate) * velocity',
        },
        'optimal_heavy_ball': {
            'through kappa, from singular values':
                's = np.linalg.svd(hessian, compute_uv=False)\n'
                'q = np.sqrt(s[0] / s[-1])\n'
                'r = (q - 1) / (q + 1)\n'
                'return 4.0 / (np.sqrt(s[0]) + np.sqrt(s[-1])) ** 2, r**2, r',
            'np.linalg.eig sorted, rate as the square root of rho':
                'e = np.sort(np.linalg.eig(hessian)[0].real)\n'
                'rho = ((np.sqrt(e[-1]) - np.sqrt(e[0])) / (np.sqrt(e[-1]) + np.sqrt(e[0]))) ** 2\n'
                'alpha = (1 + np.sqrt(rho)) ** 2 / e[-1]\n'
                'return alpha, rho, np.sqrt(rho)',
        },
        'stability_limit': {
            'scalars, without momentum_step':
                'def stable(learning_rate):\n'
                '    x, velocity = 1.0, 0.0\n'
                '    for _ in range(300):\n'
                '        velocity = rho * velocity + eigenvalue * x\n'
                '        x = x - learning_rate * velocity\n'
                '        if abs(x) > 1e12:\n'
                '            return False\n'
                '    return abs(x) < 1.0\n'
                'low, high = 0.0, 20.0 / eigenvalue\n'
                'while high - low > 1e-9 * high:\n'
                '    middle = 0.5 * (low + high)\n'
                '    if stable(middle):\n'
                '        low = middle\n'
                '    else:\n'
                '        high = middle\n'
                'return 0.5 * (low + high)',
            'the boundary of the theory':
                'return 2 * (1 + rho) / eigenvalue',
        },
    },
    '05_nesterov': {
        'nesterov_step': {
            'x + new_v + rho (new_v - v)':
                "v = state['cs231n_velocity']\n"
                'new_v = rho * v - learning_rate * dx\n'
                "return x + new_v + rho * (new_v - v), {'cs231n_velocity': new_v}",
            'look-ahead written out':
                "v = rho * state['cs231n_velocity'] - learning_rate * dx\n"
                "return (x + rho * rho * state['cs231n_velocity'] - (1 + rho) * learning_rate * dx,\n"
                "        {'cs231n_velocity': v})",
        },
        'nesterov_rate': {
            'quadratic formula with a complex square root':
                'import cmath\n'
                'a = (1 + rho) * (1 - learning_rate * eigenvalue)\n'
                'b = rho * (1 - learning_rate * eigenvalue)\n'
                'root = cmath.sqrt(a * a - 4 * b)\n'
                'return max(abs((a + root) / 2), abs((a - root) / 2))',
            'eigenvalues of the 2x2 iteration matrix':
                'a = (1 + rho) * (1 - learning_rate * eigenvalue)\n'
                'b = rho * (1 - learning_rate * eigenvalue)\n'
                'return float(np.max(np.abs(np.linalg.eigvals(np.array([[a, -b], [1.0, 0.0]])))))',
        },
        'measured_nesterov_rate': {
            'the last step ratio':
                'rho = (kappa**0.5 - 1) / (kappa**0.5 + 1)\n'
                "x, state = np.ones(2), {'cs231n_velocity': np.zeros(2)}\n"
                'for _ in range(num_steps):\n'
                '    previous = x\n'
                "    x, state = nesterov_step(x, np.array([x[0], kappa * x[1]]), state, 1 / kappa, rho)\n"
                'return float(np.hypot(*x) / np.hypot(*previous))',
            'slope of log |x_k| over the second half':
                'rho = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)\n'
                "x, state, logs = np.ones(2), {'cs231n_velocity': np.zeros(2)}, []\n"
                'for _ in range(num_steps):\n'
                "    x, state = nesterov_step(x, np.array([1.0, kappa]) * x, state, 1 / kappa, rho)\n"
                '    logs.append(np.log(np.hypot(*x)))\n'
                'k = np.arange(1, num_steps + 1)\n'
                'half = num_steps // 2\n'
                'return float(np.exp(np.polyfit(k[half:], logs[half:], 1)[0]))',
        },
    },
    '06_adagrad_rmsprop': {
        'adagrad_step': {
            'power 0.5 and a new dict':
                "s = state['grad_squared'] + dx**2\n"
                'return x - learning_rate * dx / (s**0.5 + eps), dict(grad_squared=s)',
            'np.square and np.divide':
                "s = np.add(state['grad_squared'], np.square(dx))\n"
                "return x - np.divide(learning_rate * dx, np.sqrt(s) + eps), {'grad_squared': s}",
        },
        'rmsprop_step': {
            'leaky average as an increment':
                "s = state['grad_squared'] + (1 - decay_rate) * (dx**2 - state['grad_squared'])\n"
                "return x - learning_rate * dx / (s**0.5 + eps), {'grad_squared': s}",
            'np.square':
                "s = decay_rate * state['grad_squared'] + (1 - decay_rate) * np.square(dx)\n"
                'step = learning_rate / (np.sqrt(s) + eps) * dx\n'
                "return x - step, {'grad_squared': s}",
        },
        'constant_gradient_steps': {
            'run with your own steps':
                "x, a, r = np.zeros(1), {'grad_squared': np.zeros(1)}, {'grad_squared': np.zeros(1)}\n"
                'xa, xr = x, x\n'
                'for _ in range(t):\n'
                '    xa_old, xr_old = xa, xr\n'
                '    xa, a = adagrad_step(xa, np.array([gradient]), a, learning_rate, eps)\n'
                '    xr, r = rmsprop_step(xr, np.array([gradient]), r, learning_rate, decay_rate, eps)\n'
                'return float(abs(xa - xa_old)[0]), float(abs(xr - xr_old)[0])',
            'eps relative to |g|':
                'ratio = eps / abs(gradient)\n'
                'return (learning_rate / (t**0.5 + ratio),\n'
                '        learning_rate / ((1 - decay_rate**t) ** 0.5 + ratio))',
        },
        'adagrad_distance': {
            'einsum and a hand-written norm':
                "x, state = np.array(x0, dtype=float), {'grad_squared': 0 * x0}\n"
                'for _ in range(num_steps):\n'
                "    gradient = np.einsum('ij,j->i', hessian, x)\n"
                '    x, state = adagrad_step(x, gradient, state, learning_rate, 0.0)\n'
                'return float(np.sqrt(np.sum(x * x)))',
            'while loop':
                "x, state, k = x0, {'grad_squared': np.zeros(len(x0))}, 0\n"
                'while k < num_steps:\n'
                '    x, state = adagrad_step(x, np.dot(hessian, x), state, learning_rate, eps=0)\n'
                '    k += 1\n'
                'return float(np.hypot.reduce(x))',
        },
    },
    '07_adam': {
        'adam_almost_step': {
            'increments':
                "m = state['first_moment'] + (1 - beta1) * (dx - state['first_moment'])\n"
                "v = state['second_moment'] + (1 - beta2) * (dx * dx - state['second_moment'])\n"
                "return x - learning_rate * m / (np.sqrt(v) + eps), {'first_moment': m, 'second_moment': v}",
            'np.square and a copied state':
                'new = dict(state)\n'
                "new['first_moment'] = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "new['second_moment'] = beta2 * state['second_moment'] + (1 - beta2) * np.square(dx)\n"
                "return x - learning_rate * new['first_moment'] / (new['second_moment']**0.5 + eps), new",
        },
        'adam_step': {
            'increments':
                "t = state['t'] + 1\n"
                "m = state['first_moment'] + (1 - beta1) * (dx - state['first_moment'])\n"
                "v = state['second_moment'] + (1 - beta2) * (dx * dx - state['second_moment'])\n"
                'step = learning_rate * m / (1 - beta1**t) / (np.sqrt(v / (1 - beta2**t)) + eps)\n'
                "return x - step, {'first_moment': m, 'second_moment': v, 't': t}",
            'corrected moments by name':
                "t = state['t'] + 1\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx**2\n"
                'm_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)\n'
                "return x - learning_rate * m_hat / (np.sqrt(v_hat) + eps), {'first_moment': m, "
                "'second_moment': v, 't': t}",
        },
        'adamw_step': {
            'reuses adam_step from exercise 2':
                'return adam_step(x * (1 - learning_rate * weight_decay), dx, state, learning_rate, beta1, '
                'beta2, eps)',
            'one combined update':
                "t = state['t'] + 1\nm = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * np.square(dx)\n"
                'm_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)\n'
                'update = weight_decay * x + m_hat / (np.sqrt(v_hat) + eps)\n'
                "return x - learning_rate * update, {'first_moment': m, 'second_moment': v, 't': t}",
        },
        'uncorrected_step_ratio': {
            'run with your own adam_almost_step':
                "x, state = np.zeros(1), {'first_moment': np.zeros(1), 'second_moment': np.zeros(1)}\n"
                'for _ in range(t):\n'
                '    previous = x\n'
                '    x, state = adam_almost_step(x, np.array([2.5]), state, 1.0, beta1, beta2, 0.0)\n'
                'return float(abs(x - previous)[0])',
            'through expm1 and log1p':
                'return float(-np.expm1(t * np.log(beta1)) / np.sqrt(-np.expm1(t * np.log1p(beta2 - 1))))',
        },
        'overshoot_ratio': {
            'sum of the steps, gradient -2, learning rate 0.1':
                "h = dict(learning_rate=0.1, beta1=beta1, beta2=beta2, eps=0)\n"
                "sa = {'first_moment': np.zeros(1), 'second_moment': np.zeros(1)}\n"
                "sb, xa, xb, da, db = dict(sa, t=0), np.zeros(1), np.zeros(1), 0.0, 0.0\n"
                'for _ in range(num_steps):\n'
                '    na, sa = adam_almost_step(xa, np.array([-2.0]), sa, **h)\n'
                '    nb, sb = adam_step(xb, np.array([-2.0]), sb, **h)\n'
                '    da, db, xa, xb = da + abs(na - xa)[0], db + abs(nb - xb)[0], na, nb\n'
                'return da / db',
            'the theory of exercise 4':
                'ratios = [uncorrected_step_ratio(t, beta1, beta2) for t in range(1, num_steps + 1)]\n'
                'return float(np.mean(ratios))',
        },
    },
    '08_schedules': {
        "warmup_cosine": {
            "cos^2 of the half angle, a clipped progress":
                "if step < warmup_steps:\n"
                "    return learning_rate * (start_factor + (1 - start_factor) * step / warmup_steps)\n"
                "progress = np.clip((step - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)\n"
                "return float(min_learning_rate + (learning_rate - min_learning_rate) * "
                "np.cos(np.pi * progress / 2) ** 2)",
            "np.interp for the warmup, math.cos, the peak as a factor":
                "import math\n"
                "if step < warmup_steps:\n"
                "    ramp = [start_factor * learning_rate, learning_rate]\n"
                "    return float(np.interp(step, [0, warmup_steps], ramp))\n"
                "if step >= total_steps:\n"
                "    return min_learning_rate\n"
                "angle = math.pi * (step - warmup_steps) / (total_steps - warmup_steps)\n"
                "factor = 0.5 * (1 + math.cos(angle))\n"
                "return min_learning_rate * (1 - factor) + learning_rate * factor",
        },
        "cs231n_momentum_step": {
            "through PyTorch's velocity and back":
                "v = rho * state['cs231n_velocity'] / -state['previous_learning_rate'] + dx\n"
                "v_cs = -learning_rate * v\n"
                "return x + v_cs, {'cs231n_velocity': v_cs, 'previous_learning_rate': learning_rate}",
            "a copied state, the step as a separate array":
                "new = dict(state)\n"
                "ratio = learning_rate / state['previous_learning_rate']\n"
                "step = rho * ratio * state['cs231n_velocity'] - learning_rate * dx\n"
                "new['cs231n_velocity'] = step\n"
                "new['previous_learning_rate'] = learning_rate\n"
                "return x + step, new",
        },
        "steps_to_new_floor": {
            "floors simplified by hand, the log of |q| doubled":
                "r = excess * lr_after * (2 - lr_before * curvature) / (2 * (lr_before - lr_after))\n"
                "return float(np.log(r) / (2 * np.log(abs(1 - lr_after * curvature))))",
            "bisection on the exact excess":
                "q2 = (1 - lr_after * curvature) ** 2\n"
                "f_before = lr_before / (curvature * (2 - lr_before * curvature))\n"
                "f_after = lr_after / (curvature * (2 - lr_after * curvature))\n"
                "low, high = 0.0, 1.0\n"
                "while q2**high * (f_before - f_after) > excess * f_after:\n"
                "    high *= 2\n"
                "for _ in range(200):\n"
                "    middle = (low + high) / 2\n"
                "    if q2**middle * (f_before - f_after) > excess * f_after:\n"
                "        low = middle\n"
                "    else:\n"
                "        high = middle\n"
                "return (low + high) / 2",
        },
        "floor_ratio": {
            "all noise drawn up front, running sums":
                "lam = np.asarray(eigenvalues, dtype=float)\n"
                "rng = np.random.default_rng(seed)\n"
                "x, floors = np.zeros(lam.size), []\n"
                "for rate in (learning_rate, factor * learning_rate):\n"
                "    xi = rng.standard_normal((num_steps, lam.size))\n"
                "    total = 0.0\n"
                "    for k in range(num_steps):\n"
                "        x = (1 - rate * lam) * x - rate * noise * xi[k]\n"
                "        if k >= num_steps // 2:\n"
                "            total += x @ x\n"
                "    floors.append(total / (num_steps - num_steps // 2))\n"
                "return floors[1] / floors[0]",
            "course_lib.optim's SGD, an array of distances":
                "from course_lib.optim import SGD\n"
                "problem = Quadratic(np.diag(eigenvalues))\n"
                "rng = np.random.default_rng(seed)\n"
                "x = np.zeros(len(eigenvalues))\n"
                "floors = []\n"
                "for rate in (learning_rate, factor * learning_rate):\n"
                "    sgd = SGD(learning_rate=rate)\n"
                "    distances = np.empty(num_steps)\n"
                "    for k in range(num_steps):\n"
                "        x = sgd.step(x, problem.grad(x) + noise * rng.standard_normal(x.size))\n"
                "        distances[k] = np.sum(x**2)\n"
                "    floors.append(distances[num_steps // 2:].mean())\n"
                "return float(floors[1] / floors[0])",
        },
    },
    '09_newton_lbfgs': {
        'newton_step': {
            'explicit inverse':
                'return x - np.linalg.inv(hessian) @ grad',
            'least squares':
                'return x - np.linalg.lstsq(hessian, grad, rcond=None)[0]',
        },
        'backtracking_line_search': {
            'counts the shrinks':
                'f0, slope = f(x), grad(x) @ direction\n'
                'if slope >= 0:\n'
                '    return 0.0\n'
                'k = 0\n'
                'while f(x + step * shrink**k * direction) > f0 + c1 * step * shrink**k * slope:\n'
                '    k += 1\n'
                'return step * shrink**k',
            'for loop with break, np.dot':
                'if np.dot(grad(x), direction) >= 0:\n'
                '    return 0.0\n'
                'alpha = step\n'
                'for _ in range(10_000):\n'
                '    if f(x + alpha * direction) <= f(x) + c1 * alpha * np.dot(grad(x), direction):\n'
                '        break\n'
                '    alpha = alpha * shrink\n'
                'return alpha',
            'recursion':
                'slope = grad(x) @ direction\n'
                'if not slope < 0:\n'
                '    return 0.0\n'
                'if f(x + step * direction) - f(x) <= c1 * step * slope:\n'
                '    return step\n'
                'return backtracking_line_search(f, grad, x, direction, step * shrink, c1, shrink)',
        },
        'two_loop_recursion': {
            'the BFGS matrix built explicitly':
                'n = len(g)\n'
                'if not s_history:\n'
                '    return np.array(g, dtype=float)\n'
                'H = (s_history[-1] @ y_history[-1]) / (y_history[-1] @ y_history[-1]) * np.eye(n)\n'
                'for s, y in zip(s_history, y_history):\n'
                '    rho = 1 / (y @ s)\n'
                '    V = np.eye(n) - rho * np.outer(y, s)\n'
                '    H = V.T @ H @ V + rho * np.outer(s, s)\n'
                'return H @ g',
            'indices instead of zip':
                'm = len(s_history)\n'
                'q = g.copy()\n'
                'if m == 0:\n'
                '    return q\n'
                'a = np.zeros(m)\n'
                'for i in range(m - 1, -1, -1):\n'
                '    a[i] = (s_history[i] @ q) / (y_history[i] @ s_history[i])\n'
                '    q = q - a[i] * y_history[i]\n'
                'r = q * (s_history[-1] @ y_history[-1]) / (y_history[-1] @ y_history[-1])\n'
                'for i in range(m):\n'
                '    b = (y_history[i] @ r) / (y_history[i] @ s_history[i])\n'
                '    r = r + (a[i] - b) * s_history[i]\n'
                'return r',
            'one update at a time, recursively (H applied to a vector)':
                'def apply(k, v):\n'
                '    if k == 0:\n'
                '        if not s_history:\n'
                '            return np.array(v, dtype=float)\n'
                '        return (s_history[-1] @ y_history[-1]) / (y_history[-1] @ y_history[-1]) * v\n'
                '    s, y = s_history[k - 1], y_history[k - 1]\n'
                '    rho = 1.0 / (y @ s)\n'
                '    q = v - rho * (s @ v) * y\n'
                '    Hq = apply(k - 1, q)\n'
                '    return Hq - rho * (y @ Hq) * s + rho * (s @ v) * s\n'
                'return apply(len(s_history), g)',
        },
        'newton_rate': {
            'one minus the removed fraction':
                'return 1 - 1 / (power - 1)',
            'Newton step of x = 1, by hand':
                'x = 1.0\n'
                'return abs(x - x ** (power - 1) / ((power - 1) * x ** (power - 2)))',
        },
        'measured_newton_rate': {
            'scalars through newton_step, a list of iterates':
                'xs = [x0]\n'
                'for _ in range(num_steps):\n'
                '    x = xs[-1]\n'
                '    xs.append(newton_step(np.array([x]), np.array([x**3 + x**5]), '
                'np.array([[3 * x * x + 5 * x**4]]))[0])\n'
                'return abs(xs[-1] / xs[-2])',
            'the theory (2/3)':
                'return 2 / 3',
        },
    },
    '10_capstone': {
        'wolfe_interval': {
            "the parabola's coefficients":
                'b = grad @ direction\n'
                'c = 0.5 * direction @ hessian @ direction\n'
                'vertex = -b / (2 * c)\n'
                'armijo = (c1 - 1) * b / c  # phi(a) - phi(0) - c1 a b = a ((1 - c1) b + c a) <= 0\n'
                'return float((1 - c2) * vertex), float(min((1 + c2) * vertex, armijo))',
            'einsum and explicit ends':
                "curvature = np.einsum('i,ij,j->', direction, hessian, direction)\n"
                'slope = np.dot(grad, direction)\n'
                'low = (1 - c2) * -slope / curvature\n'
                'high = min((1 + c2) * -slope / curvature, 2 * (1 - c1) * -slope / curvature)\n'
                'return low, high',
        },
        'line_search_step': {
            'bisection inside the bracket':
                "alpha = search['alpha']\n"
                'trial = np.array([alpha, phi, dphi])\n'
                "lo, hi = search['lo'], search['hi']\n"
                "if phi > search['phi0'] + c1 * alpha * search['dphi0'] or phi >= lo[1]:\n"
                '    hi = trial\n'
                "elif abs(dphi) <= -c2 * search['dphi0']:\n"
                "    return {**search, 'done': True}\n"
                'else:\n'
                '    if (dphi >= 0) if hi is None else (dphi * (hi[0] - lo[0]) >= 0):\n'
                '        hi = lo\n'
                '    lo = trial\n'
                'if hi is None:\n'
                "    return {**search, 'lo': lo, 'alpha': 2 * alpha}\n"
                "return {**search, 'lo': lo, 'hi': hi, 'alpha': 0.5 * (lo[0] + hi[0])}",
            'quadratic interpolation, new dict built key by key':
                "a0, f0, d0 = search['alpha'], search['phi0'], search['dphi0']\n"
                "lo, hi = np.array(search['lo']), search['hi']\n"
                "new = {'phi0': f0, 'dphi0': d0, 'alpha': a0, 'lo': lo, 'hi': hi, 'done': False}\n"
                'if phi > f0 + c1 * a0 * d0 or phi >= lo[1]:\n'
                "    new['hi'] = np.array([a0, phi, dphi])\n"
                'elif abs(dphi) <= c2 * abs(d0):\n'
                "    new['done'] = True\n"
                '    return new\n'
                'else:\n'
                '    if hi is None and dphi >= 0 or hi is not None and dphi * (hi[0] - lo[0]) >= 0:\n'
                "        new['hi'] = lo\n"
                "    new['lo'] = np.array([a0, phi, dphi])\n"
                "if new['hi'] is None:\n"
                "    new['alpha'] = 2.0 * a0\n"
                '    return new\n'
                "(a, fa, da), (b, fb, db) = new['lo'], new['hi']\n"
                'curvature = (fb - fa - da * (b - a)) / (b - a) ** 2\n'
                'guess = a - da / (2 * curvature) if curvature > 0 else 0.5 * (a + b)\n'
                'left, right = min(a, b), max(a, b)\n'
                'inside = left + 0.1 * (right - left) <= guess <= right - 0.1 * (right - left)\n'
                "new['alpha'] = float(guess if inside else 0.5 * (a + b))\n"
                'return new',
        },
        'lbfgs_step': {
            'history as 2-D arrays, two-loop with indices':
                'if not state:\n'
                '    p = -dx\n'
                '    S = Y = np.zeros((0, len(x)))\n'
                '    alpha = 1.0 / np.linalg.norm(dx)\n'
                'else:\n'
                "    search = line_search_step(state['search'], loss, dx @ state['p'], c1, c2)\n"
                "    if not search['done']:\n"
                "        return state['x0'] + search['alpha'] * state['p'], dict(state, search=search)\n"
                "    S = np.vstack([state['S'], x - state['x0']])[-memory:]\n"
                "    Y = np.vstack([state['Y'], dx - state['g0']])[-memory:]\n"
                '    q = dx.copy()\n'
                '    a = np.zeros(len(S))\n'
                '    for i in range(len(S) - 1, -1, -1):\n'
                '        a[i] = S[i] @ q / (Y[i] @ S[i])\n'
                '        q = q - a[i] * Y[i]\n'
                '    r = q * (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1])\n'
                '    for i in range(len(S)):\n'
                '        r = r + (a[i] - Y[i] @ r / (Y[i] @ S[i])) * S[i]\n'
                '    p, alpha = -r, 1.0\n'
                'slope = dx @ p\n'
                "search = {'phi0': loss, 'dphi0': slope, 'alpha': alpha, 'hi': None, 'done': False,\n"
                "          'lo': np.array([0.0, loss, slope])}\n"
                "return x + alpha * p, {'x0': x, 'g0': dx, 'p': p, 'search': search, 'S': S, 'Y': Y}",
            'the BFGS matrix built from the pairs':
                'if not state:\n'
                '    S, Y, p, alpha = [], [], -dx, 1.0 / np.linalg.norm(dx)\n'
                'else:\n'
                "    d = state['direction']\n"
                "    search = line_search_step(state['search'], loss, dx @ d, c1, c2)\n"
                "    if not search['done']:\n"
                "        return state['start'] + search['alpha'] * d, {**state, 'search': search}\n"
                "    S = [*state['S'], x - state['start']][-memory:]\n"
                "    Y = [*state['Y'], dx - state['grad']][-memory:]\n"
                '    n = len(x)\n'
                '    H = (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1]) * np.eye(n)\n'
                '    for s, y in zip(S, Y):\n'
                '        rho = 1.0 / (y @ s)\n'
                '        V = np.eye(n) - rho * np.outer(y, s)\n'
                '        H = V.T @ H @ V + rho * np.outer(s, s)\n'
                '    p, alpha = -H @ dx, 1.0\n'
                'slope = dx @ p\n'
                "search = {'phi0': loss, 'dphi0': slope, 'alpha': alpha, 'hi': None, 'done': False,\n"
                "          'lo': np.array([0.0, loss, slope])}\n"
                "state = {'start': x, 'grad': dx, 'direction': p, 'search': search}\n"
                "return x + alpha * p, {**state, 'S': S, 'Y': Y}",
        },
        'adam_step': {
            'increments':
                "t = state['t'] + 1\n"
                "m = state['first_moment'] + (1 - beta1) * (dx - state['first_moment'])\n"
                "v = state['second_moment'] + (1 - beta2) * (dx * dx - state['second_moment'])\n"
                'step = learning_rate * m / (1 - beta1**t) / (np.sqrt(v / (1 - beta2**t)) + eps)\n'
                "return x - step, {'first_moment': m, 'second_moment': v, 't': t}",
            'corrected moments by name':
                "t = state['t'] + 1\n"
                "m = beta1 * state['first_moment'] + (1 - beta1) * dx\n"
                "v = beta2 * state['second_moment'] + (1 - beta2) * dx**2\n"
                'm_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)\n'
                "state = {'first_moment': m, 'second_moment': v, 't': t}\n"
                'return x - learning_rate * m_hat / (np.sqrt(v_hat) + eps), state',
        },
        'adam_settings': {
            'learning rate 0.03':
                "return {'learning_rate': 0.03}",
            'every setting spelled out':
                "return {'learning_rate': 0.015, 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-8}",
        },
    },
}
