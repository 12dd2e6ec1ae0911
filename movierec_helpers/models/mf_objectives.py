"""The matrix-factorisation objectives of notebooks 02 and 04, for either track.

The loss and the metric groups are the same sums of the same terms in both tracks; each
track's ``mf`` module passes its own rating tensors, embeddings and loss functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Terms = tuple[Callable[[], Any], list[dict[str, Callable[[], Any]]]]


def observed_mse_objective(mse: Callable, a_train: Any, a_test: Any, U: Any, V: Any) -> Terms:
    """The loss (training MSE) and one metric group ``train_error``/``test_error``.

    Args:
        mse: the track's ``sparse_mean_square_error(A, U, V)``.
        a_train: training rating tensor.
        a_test: test rating tensor.
        U: user embeddings.
        V: movie embeddings.

    Returns:
        ``(loss, metrics)`` for the track's ``CFModel``.
    """

    def train_error():
        return mse(a_train, U, V)

    def test_error():
        return mse(a_test, U, V)

    return train_error, [{"train_error": train_error, "test_error": test_error}]


def regularized_objective(
    mse: Callable,
    l2: Callable,
    gravity: Callable,
    a_train: Any,
    a_test: Any,
    U: Any,
    V: Any,
    regularization_coeff: float,
    gravity_coeff: float,
) -> Terms:
    """MSE_observed + lambda_r r(U, V) + lambda_g g(U, V), and its two metric groups.

    Args:
        mse: the track's observed MSE; ``l2`` and ``gravity`` its regularizers.
        l2: r(U, V).
        gravity: g(U, V).
        a_train: training rating tensor.
        a_test: test rating tensor.
        U: user embeddings.
        V: movie embeddings.
        regularization_coeff: lambda_r.
        gravity_coeff: lambda_g.

    Returns:
        ``(loss, metrics)``: groups ``train_error_observed``/``test_error_observed`` and
        ``observed_loss``/``regularization_loss``/``gravity_loss``.
    """

    def observed():
        return mse(a_train, U, V)

    def regularization():
        return regularization_coeff * l2(U, V)

    def gravity_loss():
        return gravity_coeff * gravity(U, V)

    def total():
        return observed() + regularization() + gravity_loss()

    return total, [
        {"train_error_observed": observed, "test_error_observed": lambda: mse(a_test, U, V)},
        {"observed_loss": observed, "regularization_loss": regularization, "gravity_loss": gravity_loss},
    ]
