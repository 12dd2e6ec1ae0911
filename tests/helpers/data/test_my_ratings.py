import pandas as pd
import pytest

from movierec_helpers.data.my_ratings import RatingsFileError, add_my_ratings, rating_form, read_my_ratings


def test_csv_ratings_join_as_a_new_user(ml100k, tmp_path):
    path = tmp_path / "my_ratings.csv"
    pd.DataFrame({"title": ["Aladdin (1992)", "heat (1995)"], "rating": [5, 2]}).to_csv(path, index=False)
    mine = read_my_ratings(path, ml100k.movies)
    assert mine["movie_id"].tolist() == [94, 272] and mine["rating"].tolist() == [5.0, 2.0]
    data, me = add_my_ratings(ml100k, mine)
    assert me == 943 and data.num_users == 944 and len(data.ratings) == 100_002
    assert data.ratings[data.ratings.user_id == me]["movie_id"].tolist() == [94, 272]
    assert ml100k.num_users == 943, "the original data is left untouched"


@pytest.mark.parametrize(
    "rows, message",
    [
        ({"title": ["Aladin"], "rating": [4]}, r"line 2: unknown title 'Aladin'"),
        ({"title": ["Aladdin"], "rating": [4]}, r"several titles; copy the full title"),
        ({"title": ["Aladdin (1992)"], "rating": [7]}, r"rating 7 is not a number from 1 to 5"),
        ({"name": ["Aladdin (1992)"], "rating": [4]}, r"needs the columns 'title' and 'rating'"),
    ],
)
def test_bad_ratings_files_are_explained(ml100k, tmp_path, rows, message):
    path = tmp_path / "my_ratings.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    with pytest.raises(RatingsFileError, match=message):
        read_my_ratings(path, ml100k.movies)


def test_rating_form_saves_a_csv(ml100k, tmp_path):
    path = tmp_path / "mine.csv"
    form = rating_form(ml100k.movies, path)
    search, stars, button = form.children[0].children
    search.value, stars.value = "Aladdin (1992)", 5
    button.click()
    assert pd.read_csv(path).to_dict("list") == {"title": ["Aladdin (1992)"], "rating": [5]}
    assert read_my_ratings(path, ml100k.movies)["movie_id"].tolist() == [94]


def test_adding_your_ratings_again_keeps_one_user(ml100k, tmp_path):
    path = tmp_path / "my_ratings.csv"
    pd.DataFrame({"title": ["Aladdin (1992)"], "rating": [5]}).to_csv(path, index=False)
    data, me = add_my_ratings(ml100k, read_my_ratings(path, ml100k.movies))
    pd.DataFrame({"title": ["Aladdin (1992)", "heat (1995)"], "rating": [4, 2]}).to_csv(path, index=False)
    again, me_again = add_my_ratings(data, read_my_ratings(path, ml100k.movies))
    assert me_again == me == 943 and again.num_users == 944, "re-running the cell must not add a second you"
    assert again.ratings[again.ratings.user_id == me]["rating"].tolist() == [4.0, 2.0]
    assert len(again.ratings) == 100_002


def test_rating_form_says_what_to_do(ml100k, tmp_path):
    form = rating_form(ml100k.movies, tmp_path / "mine.csv")
    search, stars, button = form.children[0].children
    status = form.children[1]
    button.click()  # a partial title leaves the combobox empty
    assert "Pick a title from the list" in status.value
    search.value = "Aladdin (1992)"
    button.click()
    assert "Run this cell and the ones below again" in status.value
