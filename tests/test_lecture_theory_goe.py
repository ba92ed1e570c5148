"""course_lib.theory.goe_positive_definite_probability against closed forms and sampling."""

import numpy as np
import pytest

from course_lib.theory import goe_positive_definite_probability


def test_closed_forms_for_small_n():
    # n = 1: a symmetric Gaussian is positive half the time; n = 2: (2 - sqrt 2) / 4 (Dean & Majumdar)
    assert goe_positive_definite_probability(1) == pytest.approx(0.5, rel=1e-12)
    assert goe_positive_definite_probability(2) == pytest.approx((2 - np.sqrt(2)) / 4, rel=1e-10)


def test_matches_sampling():
    rng = np.random.default_rng(1)
    for n, samples in [(3, 200_000), (4, 400_000)]:
        a = rng.standard_normal((samples, n, n))
        hits = np.sum(np.linalg.eigvalsh((a + a.transpose(0, 2, 1)) / 2)[:, 0] > 0)
        p = goe_positive_definite_probability(n)
        assert abs(hits - p * samples) < 4 * np.sqrt(p * samples)


def test_falls_faster_than_exponentially():
    logs = np.log([goe_positive_definite_probability(n) for n in range(1, 13)])
    assert np.all(np.diff(logs, 2) < 0)  # log p is concave in n
    theta = -np.polyfit(np.arange(1, 13), logs, 2)[0]
    assert 0.25 < theta < np.log(3) / 4 + 0.01  # tends to ln(3)/4 from below


@pytest.mark.parametrize("n", [0, 2.5, -1])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n must"):
        goe_positive_definite_probability(n)
