"""course_lib.network: the tiny numpy MLP, its exact derivatives, the spiral data, critical points.

Derivatives are checked against central finite differences (of the loss for the gradient, of the
analytic gradient for the Hessian, of the logits for Jacobian and Gauss-Newton products) and, when
PyTorch is installed, against torch.autograd.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import optim
from course_lib.network import Network, critical_point_index, newton_critical_point, spiral_data
from course_lib.problems import SaddleQuadratic


def make_network(hidden=(5,), l2=1e-2, num_per_class=20, num_classes=3):
    X, y = spiral_data(num_per_class, num_classes, seed=1)
    return Network(X, y, hidden=hidden, l2=l2)


def random_point(net, seed=0, scale=0.7):
    # Away from 0 so that tanh's curvature and the softmax are both exercised.
    return scale * np.random.default_rng(seed).standard_normal(net.dim)


def central_difference(f, x, h):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def relative_error(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


# ---------------------------------------------------------------------------------------------
# Data


def test_spiral_data_shapes_labels_and_radius():
    X, y = spiral_data(num_per_class=40, num_classes=4, noise=0.1, seed=3)
    assert X.shape == (160, 2) and y.shape == (160,)
    assert np.array_equal(np.bincount(y), [40] * 4)
    radius = np.linalg.norm(X, axis=1)
    assert np.allclose(radius, np.tile(np.linspace(0, 1, 40), 4))


def test_spiral_data_is_seeded():
    a, _ = spiral_data(seed=5)
    b, _ = spiral_data(seed=5)
    c, _ = spiral_data(seed=6)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_spiral_arms_without_noise_follow_the_formula():
    X, y = spiral_data(num_per_class=7, num_classes=3, noise=0.0)
    r = np.tile(np.linspace(0, 1, 7), 3)
    t = 4 * y + 4 * r
    assert np.allclose(X, np.column_stack([r * np.sin(t), r * np.cos(t)]), atol=1e-15)


@pytest.mark.parametrize("kwargs, name", [
    (dict(num_per_class=0), "num_per_class"),
    (dict(num_per_class=2.5), "num_per_class"),
    (dict(num_classes=1), "num_classes"),
    (dict(noise=-0.1), "noise"),
    (dict(noise=np.nan), "noise"),
])
def test_spiral_data_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        spiral_data(**kwargs)


# ---------------------------------------------------------------------------------------------
# Shapes and the flat parameter vector


def test_dimension_counts_weights_and_biases():
    net = make_network(hidden=(4, 6))
    assert net.layer_sizes == (2, 4, 6, 3)
    assert net.dim == (2 * 4 + 4) + (4 * 6 + 6) + (6 * 3 + 3)


def test_unflatten_gives_views_in_layer_order():
    net = make_network(hidden=(4,))
    x = np.arange(net.dim, dtype=float)
    (W1, b1), (W2, b2) = net.unflatten(x)
    assert W1.shape == (2, 4) and b1.shape == (4,) and W2.shape == (4, 3) and b2.shape == (3,)
    assert np.array_equal(np.concatenate([W1.ravel(), b1, W2.ravel(), b2]), x)


def test_forward_pass_matches_a_hand_written_one():
    net = make_network(hidden=(4,))
    x = random_point(net)
    (W1, b1), (W2, b2) = net.unflatten(x)
    logits = np.tanh(net.X @ W1 + b1) @ W2 + b2
    assert np.allclose(net.logits(x), logits, rtol=1e-14, atol=1e-14)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    data_loss = -np.mean(np.log(p[np.arange(net.num_examples), net.y]))
    assert net.loss(x) == pytest.approx(data_loss + 0.5 * net.l2 * x @ x, rel=1e-13)
    assert net.accuracy(x) == np.mean(np.argmax(logits, axis=1) == net.y)


def test_zero_parameters_predict_uniformly():
    net = make_network(num_classes=4)
    assert net.loss(np.zeros(net.dim)) == pytest.approx(np.log(4), rel=1e-14)
    # Balanced classes: the origin is a critical point (every delta averages to zero).
    assert np.linalg.norm(net.grad(np.zeros(net.dim))) < 1e-15


def test_init_params_is_seeded_and_scaled_by_fan_in():
    net = Network(*spiral_data(10, 3), hidden=(400,))
    x = net.init_params(seed=2)
    assert np.array_equal(x, net.init_params(seed=2))
    (W1, b1), (W2, b2) = net.unflatten(x)
    assert np.all(b1 == 0) and np.all(b2 == 0)
    assert W1.std() == pytest.approx(1 / np.sqrt(2), rel=0.05)
    assert W2.std() == pytest.approx(1 / np.sqrt(400), rel=0.05)


# ---------------------------------------------------------------------------------------------
# Derivatives


@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
def test_gradient_matches_finite_differences_of_the_loss(hidden):
    net = make_network(hidden=hidden)
    x = random_point(net)
    assert relative_error(net.grad(x), central_difference(net.loss, x, 1e-6)) < 1e-7


@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
def test_hessian_matches_finite_differences_of_the_gradient(hidden):
    net = make_network(hidden=hidden)
    x = random_point(net, seed=1)
    H = net.hessian(x)
    assert np.array_equal(H, H.T)
    assert relative_error(H, central_difference(net.grad, x, 1e-6)) < 1e-7


def test_hessian_vector_products_are_exact_and_batched():
    net = make_network(hidden=(4, 3))
    x = random_point(net, seed=2)
    V = np.random.default_rng(3).standard_normal((3, net.dim))
    HV = net.hessian_vector_product(x, V)
    assert HV.shape == (3, net.dim)
    assert np.allclose(HV, V @ net.hessian(x), rtol=1e-12, atol=1e-14)
    assert np.allclose(net.hessian_vector_product(x, V[1]), HV[1], rtol=1e-14, atol=1e-15)
    # Unsymmetrised products are already symmetric to rounding: the R-operator is exact.
    raw = net.hessian_vector_product(x, np.eye(net.dim))
    assert np.max(np.abs(raw - raw.T)) < 1e-14 * np.max(np.abs(raw))


def test_jacobian_vector_products_match_finite_differences_of_the_logits():
    net = make_network(hidden=(4, 3))
    x = random_point(net, seed=7)
    V = np.random.default_rng(8).standard_normal((3, net.dim))
    JV = net.jacobian_vector_product(x, V)
    assert JV.shape == (3, net.num_examples, 3)
    h = 1e-6
    for v, Jv in zip(V, JV, strict=True):
        numeric = (net.logits(x + h * v) - net.logits(x - h * v)) / (2 * h)
        assert relative_error(Jv, numeric) < 1e-7
    np.testing.assert_array_equal(net.jacobian_vector_product(x, V[2]), JV[2])


def dense_gauss_newton(net, x, h=1e-6):
    """G = (1/N) sum_i J_i^T (diag p_i - p_i p_i^T) J_i + l2 I with J by central differences of the logits."""
    columns = [(net.logits(x + h * e) - net.logits(x - h * e)) / (2 * h) for e in np.eye(net.dim)]
    J = np.stack(columns, axis=-1)  # (N, classes, dim)
    z = net.logits(x)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    G = sum(J_i.T @ (np.diag(p_i) - np.outer(p_i, p_i)) @ J_i for J_i, p_i in zip(J, p, strict=True))
    return G / net.num_examples + net.l2 * np.eye(net.dim)


@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
def test_gauss_newton_products_match_the_dense_matrix_from_finite_differences(hidden):
    net = make_network(hidden=hidden)
    x = random_point(net, seed=9)
    reference = dense_gauss_newton(net, x)
    V = np.random.default_rng(10).standard_normal((4, net.dim))
    GV = net.gauss_newton_vector_product(x, V)
    assert GV.shape == (4, net.dim)
    assert relative_error(GV, V @ reference) < 1e-7
    np.testing.assert_allclose(net.gauss_newton_vector_product(x, V[0]), GV[0], rtol=1e-13, atol=1e-15)
    G = net.gauss_newton_matrix(x)
    assert np.array_equal(G, G.T) and relative_error(G, reference) < 1e-7


def test_gauss_newton_is_positive_semidefinite_where_the_hessian_is_not():
    net = make_network(hidden=(5,), l2=0.0)
    x = random_point(net, seed=11)
    H, G = net.hessian(x), net.gauss_newton_matrix(x)
    assert np.linalg.eigvalsh(H)[0] < -1e-3
    assert np.linalg.eigvalsh(G)[0] > -1e-12 * np.linalg.eigvalsh(G)[-1]
    # They differ by the logits' curvature weighted by the output deltas: not a rounding error.
    assert relative_error(G, H) > 0.1


def test_gauss_newton_is_the_hessian_when_the_logits_are_linear():
    regression = make_network(hidden=(), l2=1e-2)
    x = random_point(regression, seed=12)
    G, H = regression.gauss_newton_matrix(x), regression.hessian(x)
    np.testing.assert_allclose(G, H, rtol=1e-12, atol=1e-15)


def test_convex_without_hidden_layers_and_not_with_them():
    regression = make_network(hidden=(), l2=0.0)
    assert regression.dim == 2 * 3 + 3
    assert relative_error(regression.grad(x := random_point(regression)),
                          central_difference(regression.loss, x, 1e-6)) < 1e-7
    smallest = [np.linalg.eigvalsh(regression.hessian(random_point(regression, seed=s)))[0] for s in range(5)]
    assert min(smallest) > -1e-12  # softmax regression: a convex loss, PSD Hessian everywhere
    net = make_network(hidden=5, l2=0.0)  # an int is one hidden layer
    assert net.layer_sizes == (2, 5, 3)
    assert np.linalg.eigvalsh(net.hessian(random_point(net)))[0] < -1e-3  # a network's is not


def test_minibatch_and_per_example_gradients_agree():
    net = make_network(hidden=(4, 3))
    x = random_point(net, seed=4)
    idx = np.array([0, 5, 7, 30, 59])
    per_example = net.per_example_grads(x, idx)
    assert per_example.shape == (5, net.dim)
    assert np.allclose(per_example.mean(axis=0), net.minibatch_grad(x, idx), rtol=1e-13, atol=1e-15)
    i = 7
    one = Network(net.X[i:i + 1], net.y[i:i + 1], hidden=(4, 3), l2=net.l2, num_classes=3)
    assert np.allclose(per_example[2], one.grad(x), rtol=1e-13, atol=1e-15)
    assert np.allclose(net.minibatch_grad(x, np.arange(net.num_examples)), net.grad(x), rtol=1e-14)
    assert net.loss(x) == pytest.approx(net.per_example_losses(x).mean(), rel=1e-14)


def test_matches_pytorch_autograd():
    torch = pytest.importorskip("torch")
    net = make_network(hidden=(4, 3))
    x = random_point(net, seed=5)
    X, y = torch.tensor(net.X), torch.tensor(net.y)

    def loss(flat):
        start, a = 0, X
        for layer, (m, n) in enumerate(net.shapes):
            W = flat[start:start + m * n].reshape(m, n)
            b = flat[start + m * n:start + m * n + n]
            start += m * n + n
            a = a @ W + b
            if layer < len(net.shapes) - 1:
                a = torch.tanh(a)
        return torch.nn.functional.cross_entropy(a, y) + 0.5 * net.l2 * flat @ flat

    flat = torch.tensor(x, requires_grad=True)
    value = loss(flat)
    (grad,) = torch.autograd.grad(value, flat)
    hessian = torch.autograd.functional.hessian(loss, torch.tensor(x))
    assert net.loss(x) == pytest.approx(value.item(), rel=1e-13)
    assert np.allclose(net.grad(x), grad.numpy(), rtol=1e-11, atol=1e-14)
    assert np.allclose(net.hessian(x), hessian.numpy(), rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------------------------------------------
# Works with the course's optimizers and runner


def test_minibatch_training_with_the_course_runner_learns_the_spiral():
    X, y = spiral_data(50, 3, seed=0)
    net = Network(X, y, hidden=(16, 16))
    x0 = net.init_params(seed=0)
    trajectory = optim.run(optim.Adam(1e-2), net, x0, 600, batch_size=16, seed=0)
    assert not trajectory.diverged
    assert net.accuracy(x0) < 0.6
    assert trajectory.losses[-1] < 0.3 * trajectory.losses[0]
    assert net.accuracy(trajectory.final_point) > 0.9


def test_predict_on_new_points():
    net = make_network(hidden=(4,))
    x = random_point(net)
    grid = np.array([[0.1, 0.2], [-0.5, 0.3]])
    assert np.array_equal(net.predict(x, grid), np.argmax(net.logits(x, grid), axis=1))
    with pytest.raises(ValueError, match="X must have shape"):
        net.predict(x, np.zeros((2, 3)))


# ---------------------------------------------------------------------------------------------
# Critical points


def test_critical_point_index_counts_negative_eigenvalues():
    assert critical_point_index(np.diag([-2.0, 1.0, 3.0, 4.0])) == 0.25
    assert critical_point_index(np.diag([1.0, 2.0])) == 0.0
    assert critical_point_index(-np.eye(3)) == 1.0
    # Rounding-level negative eigenvalues are not counted.
    assert critical_point_index(np.diag([-1e-14, 1.0])) == 0.0


def test_newton_finds_a_saddle_that_gradient_descent_would_leave():
    problem = SaddleQuadratic(5.0, 1.0)
    x, converged = newton_critical_point(problem, np.array([1.0, 2.0]))
    assert converged and np.allclose(x, 0.0, atol=1e-15)
    assert critical_point_index(problem.hessian(x)) == 0.5


def test_newton_converges_to_a_network_saddle_with_tiny_gradient():
    net = make_network(hidden=(3,), l2=1e-3)
    x, converged = newton_critical_point(net, 0.05 * random_point(net, seed=6, scale=1.0))
    assert converged
    assert np.linalg.norm(net.grad(x)) <= 1e-8
    assert net.loss(x) == pytest.approx(np.log(3), abs=1e-6)  # the symmetric point near 0
    assert 0 < critical_point_index(net.hessian(x)) < 1


def test_newton_reports_failure():
    net = make_network(hidden=(3,))
    _, converged = newton_critical_point(net, random_point(net, scale=3.0), max_iter=1)
    assert not converged


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("kwargs, name", [
    (dict(X=np.zeros((4, 2, 1))), "X"),
    (dict(X=np.array([[np.nan, 0.0]] * 4)), "X"),
    (dict(y=np.array([0, 1, 2])), "y"),
    (dict(y=np.array([0.0, 1.0, 0.0, 1.0])), "y"),
    (dict(y=np.array([0, -1, 0, 1])), "y"),
    (dict(hidden=(0,)), "hidden"),
    (dict(hidden=(2.5,)), "hidden"),
    (dict(l2=-1.0), "l2"),
    (dict(num_classes=1), "num_classes"),
    (dict(num_classes=2, y=np.array([0, 1, 2, 0])), "num_classes"),
])
def test_network_rejects_bad_input(kwargs, name):
    args = dict(X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]))
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        Network(**args)


def test_parameter_vectors_of_the_wrong_shape_are_rejected():
    net = make_network()
    for bad in (np.zeros(net.dim + 1), np.zeros((2, 2))):
        with pytest.raises(ValueError, match="x must have shape"):
            net.loss(bad)
    with pytest.raises(ValueError, match="x must have shape"):
        net.grad(np.zeros(net.dim - 1))
    for product in (net.hessian_vector_product, net.gauss_newton_vector_product, net.jacobian_vector_product):
        for bad in (np.zeros(net.dim + 1), np.zeros((1, 2, net.dim)), 1.0):
            with pytest.raises(ValueError, match="v must have shape"):
                product(np.zeros(net.dim), bad)
        with pytest.raises(ValueError, match="x must have shape"):
            product(np.zeros(net.dim + 1), np.zeros(net.dim))
    with pytest.raises(ValueError, match="indices"):
        net.minibatch_grad(np.zeros(net.dim), np.array([net.num_examples]))


@pytest.mark.parametrize("kwargs, name", [(dict(grad_tol=0.0), "grad_tol"), (dict(max_iter=0), "max_iter")])
def test_newton_rejects_bad_input(kwargs, name):
    net = make_network()
    with pytest.raises(ValueError, match=name):
        newton_critical_point(net, np.zeros(net.dim), **kwargs)
