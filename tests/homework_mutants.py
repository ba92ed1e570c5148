"""Planted wrong answers: for every graded exercise, typical slips that its checks must catch.

MUTANTS[notebook][exercise] maps a description of the slip to the text that replaces the solution
region (dedented; it is indented to the markers' level when spliced in). The last group in each
notebook uses what the exercise forbids: right numbers, wrong means.
"""

MUTANTS = {
    "01_conditioning": {
        "condition_number": {
            "eigenvalue ratio (wrong for indefinite H)":
                "eigenvalues = np.linalg.eigvalsh(hessian)\nreturn eigenvalues[-1] / eigenvalues[0]",
            "smallest over largest": "s = np.linalg.svd(hessian, compute_uv=False)\nreturn s[-1] / s[0]",
            "ratio of diagonal entries": "d = np.abs(np.diag(hessian))\nreturn d.max() / d.min()",
            "uses np.linalg.cond (forbidden)": "return np.linalg.cond(hessian)",
        },
        "max_stable_learning_rate": {
            "1 / lambda_max": "return 1.0 / np.linalg.eigvalsh(hessian)[-1]",
            "2 / lambda_min": "return 2.0 / np.linalg.eigvalsh(hessian)[0]",
            "largest diagonal entry": "return 2.0 / np.max(np.diag(hessian))",
            "uses course_lib.theory (forbidden)":
                "from course_lib import theory\nreturn theory.max_stable_learning_rate(hessian)",
        },
        "gd_step": {
            "sign error (slide typo)": "return x + learning_rate * dx",
            "forgets the learning rate": "return x - dx",
            "learning rate squared": "return x - learning_rate**2 * dx",
            "uses course_lib.optim (forbidden)":
                "from course_lib.optim import SGD\nreturn SGD(learning_rate).step(x, dx)",
        },
    },
    "02_minima_saddles": {
        "classify_critical_point": {
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
            "plain Newton (H instead of |H|)": "return x - np.linalg.solve(hessian, grad)",
            "sign error": "e, V = np.linalg.eigh(hessian)\nreturn x + V @ ((V.T @ grad) / np.abs(e))",
            "|diagonal| only": "return x - grad / np.abs(np.diag(hessian))",
            "forgets to rotate back": "e, V = np.linalg.eigh(hessian)\nreturn x - (V.T @ grad) / np.abs(e)",
            "uses course_lib.second_order (forbidden)":
                "from course_lib import second_order\n"
                "return second_order.saddle_free_newton(lambda z: 0.0, x, grad=lambda z: grad, "
                "hessian=lambda z: hessian, gtol=0.0, maxiter=1).x",
        },
    },
    "03_minibatch_noise": {
        "minibatch_gradient": {
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
    },
    "04_momentum": {
        "momentum_step": {
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
            "sign error": "return learning_rate * velocity",
            "divides by the learning rate": "return -velocity / learning_rate",
            "forgets the learning rate": "return -velocity",
        },
    },
    "05_nesterov": {
        "nesterov_step": {
            "forgets -rho * old velocity":
                "v = rho * state['velocity'] - learning_rate * dx\nreturn x + (1 + rho) * v, {'velocity': v}",
            "old and new velocity swapped":
                "old = state['velocity']\nv = rho * old - learning_rate * dx\n"
                "return x - rho * v + (1 + rho) * old, {'velocity': v}",
            "plain momentum (no look-ahead)":
                "v = rho * state['velocity'] - learning_rate * dx\nreturn x + v, {'velocity': v}",
            "sign error in the velocity":
                "old = state['velocity']\nv = rho * old + learning_rate * dx\n"
                "return x - rho * old + (1 + rho) * v, {'velocity': v}",
            "uses course_lib.optim (forbidden)":
                "from course_lib import optim\nopt = optim.Nesterov(learning_rate, rho)\n"
                "opt.velocity = state['velocity']\nx = opt.step(x, dx)\nreturn x, {'velocity': opt.velocity}",
        },
    },
    "06_adagrad_rmsprop": {
        "adagrad_step": {
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
    },
    "07_adam": {
        "adam_almost_step": {
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
    },
    "08_newton_lbfgs": {
        "newton_step": {
            "H instead of H^-1": "return x - hessian @ grad",
            "sign error": "return x + np.linalg.solve(hessian, grad)",
            "diagonal Hessian only": "return x - grad / np.diag(hessian)",
            "uses scipy.optimize (forbidden)":
                "from scipy.optimize import minimize\n"
                "return minimize(lambda z: 0.5 * z @ hessian @ z - (hessian @ x - grad) @ z, x, "
                "jac=lambda z: hessian @ z - (hessian @ x - grad), method='BFGS', tol=1e-14).x",
        },
        "backtracking_line_search": {
            "no c1 (plain decrease)":
                "p = Rosenbrock(dim=len(x))\nalpha = step\n"
                "while p.loss(x + alpha * direction) > p.loss(x):\n    alpha *= shrink\nreturn alpha",
            "sufficient-decrease sign flipped":
                "p = Rosenbrock(dim=len(x))\nslope = p.grad(x) @ direction\nalpha = step\n"
                "while p.loss(x + alpha * direction) > p.loss(x) - c1 * alpha * slope:\n    alpha *= shrink\n"
                "return alpha",
            "one shrink too many":
                "p = Rosenbrock(dim=len(x))\nslope = p.grad(x) @ direction\nalpha = step * shrink\n"
                "while p.loss(x + alpha * direction) > p.loss(x) + c1 * alpha * slope:\n    alpha *= shrink\n"
                "return alpha",
            "uses the gradient norm instead of the slope":
                "p = Rosenbrock(dim=len(x))\nslope = -np.linalg.norm(p.grad(x))\nalpha = step\n"
                "while p.loss(x + alpha * direction) > p.loss(x) + c1 * alpha * slope:\n    alpha *= shrink\n"
                "return alpha",
        },
        "two_loop_recursion": {
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
            "uses course_lib.second_order (forbidden)":
                "from course_lib.second_order import two_loop_recursion as reference\n"
                "return reference(g, list(s_history), list(y_history))",
        },
    },
}

# Correct answers written differently from the key: the checks must accept them (no false alarms).
CONTROLS = {
    "01_conditioning": {"condition_number":
                        "e = np.abs(np.linalg.eigvalsh(hessian))\nreturn e.max() / e.min()"},
    "02_minima_saddles": {"saddle_free_newton_step":
                          "e, V = np.linalg.eigh(hessian)\nabs_h = V @ np.diag(np.abs(e)) @ V.T\n"
                          "return x - np.linalg.solve(abs_h, grad)"},
    "03_minibatch_noise": {"minibatch_gradient":
                           "return np.mean([(A[i] @ x - b[i]) * A[i] for i in indices], axis=0)"},
    "04_momentum": {"momentum_step":
                    "velocity = state['velocity'] * rho\nvelocity += dx\n"
                    "return x - learning_rate * velocity, {'velocity': velocity}"},
    "05_nesterov": {"nesterov_step":
                    "v = state['velocity']\nnew_v = rho * v - learning_rate * dx\n"
                    "return x + new_v + rho * (new_v - v), {'velocity': new_v}"},
    "06_adagrad_rmsprop": {"rmsprop_step":
                           "s = state['grad_squared'] + (1 - decay_rate) * (dx**2 - state['grad_squared'])\n"
                           "return x - learning_rate * dx / (s**0.5 + eps), {'grad_squared': s}"},
    "07_adam": {"adam_step":
                "t = state['t'] + 1\nm = state['first_moment'] + (1 - beta1) * (dx - state['first_moment'])\n"
                "v = state['second_moment'] + (1 - beta2) * (dx * dx - state['second_moment'])\n"
                "step = learning_rate * m / (1 - beta1**t) / (np.sqrt(v / (1 - beta2**t)) + eps)\n"
                "return x - step, {'first_moment': m, 'second_moment': v, 't': t}"},
    "08_newton_lbfgs": {"newton_step": "return x - np.linalg.inv(hessian) @ grad"},
}
