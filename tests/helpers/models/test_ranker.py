"""Notebook 08's scoring model: the features both tracks share, and the PyTorch track's Ranker."""

import numpy as np
import pandas as pd
import pytest

from movierec_helpers.models.ranking_features import NUMERIC, ranking_features


def test_ranking_features_standardise_numbers_and_encode_occupation_and_genres():
    users = pd.DataFrame(
        {"user_id": [0, 1], "age": [20, 40], "sex": ["F", "M"], "occupation": ["writer", "artist"]}
    )
    movies = pd.DataFrame(
        {
            "movie_id": [0, 1, 2],
            "year": [1990.0, np.nan, 1994.0],
            "genres": [["Drama"], [], ["Comedy", "Drama"]],
        }
    )
    pool = pd.DataFrame({"user_id": [0, 0, 1], "movie_id": [0, 1, 2], "MF score": [1.0, 2.0, 3.0]})
    got = ranking_features(
        pool, users, movies, np.array([3, 0, 7]), "MF", ["Comedy", "Drama"], ["artist", "writer"]
    )
    assert got["numeric"].shape == (3, len(NUMERIC)) and got["numeric"].dtype == np.float32
    np.testing.assert_allclose(got["numeric"].mean(0), 0.0, atol=1e-6)
    np.testing.assert_allclose(got["numeric"][:, 3], [-1.2247449, 0.0, 1.2247449], rtol=1e-5)  # the MF score
    assert got["numeric"][1, 2] == pytest.approx(0.0, abs=1e-6), "an unknown year is the median year"
    np.testing.assert_array_equal(got["occupation"], [1, 1, 0])
    np.testing.assert_array_equal(got["genres"], [[0, 1], [0, 0], [1, 1]])


def test_the_torch_ranker_crosses_features_and_learns_a_planted_signal():
    torch = pytest.importorskip("torch")
    from sklearn.metrics import roc_auc_score

    from movierec_helpers.exercises.reference import ReferenceSolutionUsed, forbid_exercises
    from movierec_helpers.models.torch.ranker import FeatureCross, Ranker, cross_features

    x0, x = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, -1.0]])
    w, b = torch.tensor([[1.0, 2.0], [0.0, 1.0]], requires_grad=True), torch.tensor([0.5, -0.5])
    out = cross_features(x0, x, w, b)
    np.testing.assert_allclose(
        out.detach().numpy(), [[1.0 * 3.5 + 3.0, 2.0 * 4.5 - 1.0]]
    )  # x @ w + b = [3.5, 4.5]
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), (x.T @ x0).numpy())
    with forbid_exercises("cross_features"), pytest.raises(ReferenceSolutionUsed):
        cross_features(x0, x, w, b)
    layer = FeatureCross(2)
    assert [tuple(p.shape) for p in layer.parameters()] == [(2, 2), (2,)]
    assert torch.equal(layer(x0, x), x + x0 * (x @ layer.kernel)), "a zero bias at the start"

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    n = 2000
    inputs = {
        "numeric": torch.tensor(rng.normal(size=(n, 5)), dtype=torch.float32),
        "occupation": torch.tensor(rng.integers(0, 3, n), dtype=torch.int32),
        "genres": torch.tensor(rng.random((n, 4)) < 0.3, dtype=torch.float32),
    }
    labels = ((inputs["numeric"][:, 0] * inputs["genres"][:, 1]) > 0.2).float()  # a product of features
    model = Ranker(3, 4, crosses=2, hidden=16)
    assert len(model.crosses) == 2 and Ranker(3, 4, crosses=0)(**inputs).shape == (n,)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    first = loss_fn(model(**inputs), labels).item()
    for _ in range(8):
        for batch in torch.randperm(n).split(128):
            optimizer.zero_grad()
            loss_fn(model(**{k: v[batch] for k, v in inputs.items()}), labels[batch]).backward()
            optimizer.step()
    with torch.no_grad():
        logits = model(**inputs)
    assert logits.shape == (n,)
    assert loss_fn(logits, labels).item() < first and roc_auc_score(labels.numpy(), logits.numpy()) > 0.9
