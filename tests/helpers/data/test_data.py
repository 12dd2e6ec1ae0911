import gzip
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movierec_helpers.data import DataError, load_movielens, split_ratings, validate_ratings
from movierec_helpers.data import download as remote
from movierec_helpers.data.bundled import bundled_dir


def test_counts(ml100k):
    assert len(ml100k.ratings) == 100_000
    assert ml100k.num_users == 943
    assert ml100k.num_movies == 1682
    assert ml100k.ratings["user_id"].nunique() == 943
    assert ml100k.ratings["movie_id"].nunique() == 1682
    counts = ml100k.ratings["rating"].value_counts().sort_index()
    assert counts.to_dict() == {1.0: 6110, 2.0: 11370, 3.0: 27145, 4.0: 34174, 5.0: 21201}


def test_genre_counts(ml100k):
    genre_counts = ml100k.movies["genres"].explode().value_counts()
    expected = {
        "Drama": 725,
        "Comedy": 505,
        "Action": 251,
        "Thriller": 251,
        "Romance": 247,
        "Documentary": 50,
        "Fantasy": 22,
        "Children's": 122,
        "Animation": 42,
    }
    for genre, count in expected.items():
        assert genre_counts[genre] == count, genre


def test_tables_have_zero_based_ids_and_columns(ml100k):
    movies, users = ml100k.movies, ml100k.users
    assert (movies["movie_id"] == np.arange(1682)).all()
    assert (users["user_id"] == np.arange(943)).all()
    assert ml100k.ratings["user_id"].min() == 0 and ml100k.ratings["movie_id"].max() == 1681
    assert movies.loc[94, "title"] == "Aladdin (1992)"
    assert movies.loc[94, "year"] == 1992
    assert movies.loc[94, "all_genres"] == "Animation-Children's-Comedy-Musical"
    assert movies.loc[94, "genre"] in movies.loc[94, "genres"]
    assert set(users.columns) >= {"age", "sex", "occupation", "zip_code"}
    assert users.loc[0, ["age", "sex", "occupation"]].tolist() == [24, "M", "technician"]


def test_genre_draw_follows_its_seed():
    a = load_movielens(genre_seed=1).movies["genre"]
    b = load_movielens(genre_seed=1).movies["genre"]
    c = load_movielens(genre_seed=2).movies["genre"]
    pd.testing.assert_series_equal(a, b)
    assert (a != c).any()


def test_split_is_deterministic_and_disjoint(ml100k):
    train, test = split_ratings(ml100k.ratings, 0.1, seed=3)
    train2, test2 = split_ratings(ml100k.ratings, 0.1, seed=3)
    _, test_other = split_ratings(ml100k.ratings, 0.1, seed=4)
    assert len(test) == 10_000 and len(train) == 90_000
    assert test.index.equals(test2.index) and train.index.equals(train2.index)
    assert not test.index.equals(test_other.index)
    assert not set(train.index) & set(test.index)
    assert set(train.index) | set(test.index) == set(ml100k.ratings.index)


def test_split_rejects_bad_fraction(ml100k):
    with pytest.raises(ValueError, match="holdout_fraction"):
        split_ratings(ml100k.ratings, 1.5, seed=0)


def test_unknown_variant():
    with pytest.raises(ValueError, match=r"Unknown MovieLens variant '10m'.*'100k'"):
        load_movielens("10m")


@pytest.fixture
def bundle_copy(tmp_path):
    target = tmp_path / "ml-100k"
    shutil.copytree(bundled_dir(), target)
    return target


def test_edited_file_is_rejected(bundle_copy):
    path = bundle_copy / "ml-100k.inter.gz"
    raw = gzip.decompress(path.read_bytes()).replace(b"196\t242\t3", b"196\t242\t5", 1)
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(DataError, match=r"ml-100k.inter.gz is corrupt.*build_ml100k.py"):
        load_movielens(data_dir=bundle_copy)


def test_truncated_file_is_rejected(bundle_copy):
    path = bundle_copy / "ml-100k.user.gz"
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(DataError, match=r"(Cannot read data file|corrupt).*ml-100k.user.gz.*build_ml100k"):
        load_movielens(data_dir=bundle_copy)


def test_missing_checksum_file(bundle_copy):
    (bundle_copy / "SHA256SUMS").unlink()
    with pytest.raises(DataError, match="SHA256SUMS"):
        load_movielens(data_dir=bundle_copy)


def test_missing_columns_named(ml100k):
    bad = ml100k.ratings.rename(columns={"rating": "stars"})
    with pytest.raises(DataError, match=r"missing column\(s\) \['rating'\].*rename"):
        validate_ratings(bad)


def test_ids_out_of_range_named(ml100k):
    bad = ml100k.ratings.assign(user_id=ml100k.ratings["user_id"] + 1)
    with pytest.raises(DataError, match=r"'user_id' has ids out of range \[0, 943\).*\[943\]"):
        validate_ratings(bad, num_users=943, num_movies=1682)


def test_float_ids_rejected(ml100k):
    bad = ml100k.ratings.assign(movie_id=ml100k.ratings["movie_id"].astype(float))
    with pytest.raises(DataError, match="integer ids"):
        validate_ratings(bad)


def test_remote_variant_offline_fails_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIEREC_OFFLINE", "1")
    with pytest.raises(remote.DownloadError, match=r"load_movielens\('100k'\).*offline"):
        load_movielens("1m", cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server_fails_fast_and_leaves_no_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("MOVIEREC_OFFLINE", raising=False)
    start = time.monotonic()
    with pytest.raises(remote.DownloadError, match=r"Cannot connect to 127.0.0.1:9.*'100k'"):
        remote.load_remote_variant(
            "latest-small", genre_seed=0, cache_dir=tmp_path, base_url="http://127.0.0.1:9/"
        )
    assert time.monotonic() - start < remote.CONNECT_TIMEOUT_S + 1
    assert not any(tmp_path.iterdir())


def _write_latest_small(folder: Path) -> None:
    folder.mkdir(parents=True)
    pd.DataFrame(
        {
            "movieId": [10, 20, 30],
            "title": ["A (1999)", "B, The (2001)", "C"],
            "genres": ["Drama|Comedy", "(no genres listed)", "Action"],
        }
    ).to_csv(folder / "movies.csv", index=False)
    pd.DataFrame(
        {"userId": [5, 5, 7], "movieId": [10, 30, 20], "rating": [4.5, 3.0, 1.0], "timestamp": [1, 2, 3]}
    ).to_csv(folder / "ratings.csv", index=False)


def test_cached_latest_small_is_parsed_to_zero_based_ids(tmp_path):
    folder = tmp_path / "ml-latest-small"
    _write_latest_small(folder)
    (folder / ".complete").write_text("x")
    ds = load_movielens("latest-small", cache_dir=tmp_path)
    assert ds.ratings["user_id"].tolist() == [0, 0, 1]
    assert ds.ratings["movie_id"].tolist() == [0, 2, 1]
    assert ds.movies["title"].tolist() == ["A (1999)", "B, The (2001)", "C"]
    assert ds.movies["genres"].tolist() == [["Drama", "Comedy"], [], ["Action"]]
    assert ds.movies.loc[1, "genre"] == "Other"


def test_incomplete_cache_entry_is_not_trusted(tmp_path, monkeypatch):
    _write_latest_small(tmp_path / "ml-latest-small")  # no .complete marker
    monkeypatch.setenv("MOVIEREC_OFFLINE", "1")
    with pytest.raises(remote.DownloadError):
        load_movielens("latest-small", cache_dir=tmp_path)
