"""The student's check agrees with the grade (issue #33), on notebooks 07-11 as students hand them in.

Three students per notebook each plant one common mistake in every exercise of it (a
different one each: at least three per exercise), written from the text as a student
would. For each, ``python -m movierec_helpers.check`` must exit non-zero and name the
requirement; then the class is graded for real (``movierec autograde``, sandbox), and every
test cell must give exactly the visible points the check reported, and name the same mistake.
"""

import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from movierec_instructor.cli import main

ROOT = Path(__file__).resolve().parents[2]
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

TOP_K = """def top_k_unseen(user_vector, item_vectors, rated, k):
    scores = np.asarray(item_vectors, dtype=float) @ np.asarray(user_vector, dtype=float)
    unseen = np.ones(len(scores), dtype=bool)
    {mask}
    ids = np.flatnonzero(unseen)
    order = {order}
    return ids[order[:k]]
"""
FASTEST = """def fastest_meeting_recall(measurements, recall_floor):
    good = measurements[measurements["recall@10"] {compare} recall_floor]
    if good.empty:
        raise ValueError({message})
    {pick}
"""
CROSS = """def cross_features(x0, x, kernel, bias):
    return {formula}
"""
NDCG = """def ndcg_at_k(ranked, relevant, k=10):
    wanted = {wanted}
    if not wanted:
        return 0.0
    dcg = sum(1.0 / np.log2(i + {offset}) for i, movie in enumerate(list(ranked){cut}) if movie in wanted)
    ideal = sum(1.0 / np.log2(i + {offset}) for i in range(min(k, len(wanted))))
    return float(dcg / ideal)
"""
MMR = """def mmr(candidates, relevance, similarity, k, lam):
    relevance, similarity = np.asarray(relevance, float), np.asarray(similarity, float)
    chosen, penalty = [], np.zeros(len(relevance))
    available = np.ones(len(relevance), dtype=bool)
    for _ in range(min(k, len(relevance))):
        value = np.where(available, lam * relevance - (1 - lam) * penalty, -np.inf)
        best = {best}
        chosen.append(best)
        available[best] = False
        penalty = {penalty}
    return [candidates[i] for i in chosen]
"""
FRESH = """def freshness_boost(scores, years, current_year, weight, half_life):
    years = np.asarray(years, dtype=float)
    age = {age}
    boost = {boost}
    return np.asarray(scores, dtype=float) + boost
"""
CAP = """def cap_exposure(ranked, groups, k, max_share):
    limit = {limit}
    taken, skipped, count = [], [], {{}}
    for item, group in zip(ranked, groups):
        if len(taken) == k:
            break
        if count.get(group, 0) < limit:
            taken.append(item)
            count[group] = count.get(group, 0) + 1
        else:
            skipped.append(item)
    return {result}
"""
RIGHT_MASK = "unseen[np.array(list(rated), dtype=int)] = False"
RIGHT_ORDER = "np.lexsort((ids, -scores[ids]))"
BEST_RECALL = (
    "f\"no configuration reaches {recall_floor}; the best is {measurements['recall@10'].max():.3f}\""
)
FIRST_CHEAPEST = (
    'order = np.lexsort((np.arange(len(good)), -good["recall@10"].to_numpy(), '
    'good["distances per query"].to_numpy()))\n    return good.iloc[order[0]]'
)
RIGHT_CROSS = "x0 * (ops.matmul(x, kernel) + bias) + x"
RIGHT_AGE = "np.maximum(0.0, current_year - years)"
RIGHT_BOOST = "np.where(np.isnan(years), 0.0, weight * 0.5 ** (age / half_life))"
RIGHT_LIMIT = "max(1, int(np.floor(max_share * k)))"
RIGHT_RESULT = "taken + skipped[: max(0, k - len(taken))]"
FIT = """def fit(model, optimizer, batch, num_steps):
    users, movies, ratings = batch
    losses = []
    for _ in range(num_steps):
{zero_grad}        loss = torch.nn.functional.mse_loss(model(users, movies), ratings)
        loss.backward()
{step}        losses.append({kept})
    return {result}
"""
ZERO_GRAD = "        optimizer.zero_grad()\n"
STEP = "        optimizer.step()\n"

SOLVE = """def weighted_solve(Y, YtY, items, ratings, alpha, lam):
    rows = Y[items]
    c = 1.0 + alpha * np.asarray(ratings, dtype=float)
    A = YtY + {gram} + {reg}
    return np.linalg.solve(A, rows.T @ {rhs})
"""
RIGHT_GRAM = "(rows.T * (c - 1.0)) @ rows"
RIGHT_REG = "lam * np.eye(len(YtY))"
BPR = """from scipy.special import expit


def bpr_loss_grad(x_u, y_i, y_j):
    z = np.sum(x_u * (y_i - y_j), axis=1)
    g = {g}
    loss = {loss}
    return loss, g * (y_i - y_j), g * x_u, {grad_j}
"""
RIGHT_G = "-expit(-z)[:, None] / len(z)"
RIGHT_LOSS = "float(np.mean(np.logaddexp(0.0, -z)))"
CLAIM = """def claim(results):
    winner = {winner}
    best_other = results.drop(index=winner)["tuned Recall@20"].{best}()
    return {{"winner": winner, "margin": float(results.loc[winner, "tuned Recall@20"] - best_other),
            "wins_untuned": bool(results.loc[winner, "untuned Recall@20"] > {against})}}
"""
RIGHT_WINNER = 'results.sort_values(["tuned Recall@20", "tuned NDCG@20"], ascending=False).index[0]'

LAST = """def leave_last_out(ratings):
    {pick}
    size = ratings.groupby("user_id")["user_id"].transform("size")
    held = ratings.index.isin(last.index) & (size >= {least}).to_numpy()
    return ratings[~held], ratings[held]
"""
RIGHT_PICK = 'last = ratings.sort_values(["timestamp", "movie_id"]).groupby("user_id").tail(1)'
HITS = """def sampled_hits(scores, heldout, negatives, k):
    scores = np.asarray(scores)
    rows = np.arange(len(scores))
    target = scores[rows, heldout][:, None]
    above = {above}
    return (above {compare} k).astype(float)
"""
OWN_NEGATIVES = "(scores[rows[:, None], negatives] >= target).sum(axis=1)"
INTERVAL = """def bootstrap_interval(values, n_resamples, level, random_state):
    values = np.asarray(values)
    rng = np.random.default_rng({state})
    means = values[rng.integers(0, len(values), size=(n_resamples, len(values)))].mean(axis=1)
    {result}
"""
PERCENTILES = "return float(np.quantile(means, (1 - level) / 2)), float(np.quantile(means, (1 + level) / 2))"

# notebook -> student -> {exercise: (answer, phrase make check and the graded notebook must show)}
PLANTED = {
    "02_matrix_factorization_torch": {
        "accumulates": {
            "fit": (
                FIT.format(zero_grad="", step=STEP, kept="loss.detach()", result="torch.stack(losses)"),
                "the gradients of every step added up: call optimizer.zero_grad()",
            ),
        },
        "no_step": {
            "fit": (
                FIT.format(zero_grad=ZERO_GRAD, step="", kept="loss.detach()", result="torch.stack(losses)"),
                "the loss never changed: call loss.backward(), then optimizer.step()",
            ),
        },
        "reads_each_loss": {
            "fit": (
                FIT.format(zero_grad=ZERO_GRAD, step=STEP, kept="loss.item()", result="torch.tensor(losses)"),
                "keep each loss as a tensor (loss.detach()) and torch.stack them after the loop",
            ),
        },
    },
    "07_retrieval": {
        "ties": {
            "top_k_unseen": (
                TOP_K.format(mask=RIGHT_MASK, order="np.lexsort((-ids, -scores[ids]))"),
                "movies 0 and 2 tie at 1.0: the smaller id first",
            ),
            "fastest_meeting_recall": (
                FASTEST.format(compare=">", message=BEST_RECALL, pick=FIRST_CHEAPEST),
                "a recall equal to the floor meets it",
            ),
        },
        "order": {
            "top_k_unseen": (
                TOP_K.format(mask=RIGHT_MASK, order="np.lexsort((ids, scores[ids]))"),
                "best first: movie 3 scores 2.5",
            ),
            "fastest_meeting_recall": (
                FASTEST.format(
                    compare=">=",
                    message=BEST_RECALL,
                    pick='return good.sort_values("distances per query", kind="stable").iloc[0]',
                ),
                "take the one with the higher recall, 0.97",
            ),
        },
        "mask": {
            "top_k_unseen": (TOP_K.format(mask="pass", order=RIGHT_ORDER), "leave rated movies out"),
            "fastest_meeting_recall": (
                FASTEST.format(
                    compare=">=", message='"no configuration is good enough"', pick=FIRST_CHEAPEST
                ),
                "say the best recall measured",
            ),
        },
    },
    "08_scoring": {
        "left": {
            "cross_features": (
                CROSS.format(formula="x0 * (ops.matmul(kernel, x) + bias) + x"),
                "x @ kernel, not kernel @ x",
            ),
            "ndcg_at_k": (NDCG.format(wanted="list(relevant)", offset=2, cut="[:k]"), "counts once"),
        },
        "residual": {
            "cross_features": (
                CROSS.format(formula="x0 * (ops.matmul(x, kernel) + bias)"),
                "add x back at the end",
            ),
            "ndcg_at_k": (
                NDCG.format(wanted="set(relevant)", offset=3, cut="[:k]"),
                "in the DCG and in the ideal DCG alike",
            ),
        },
        "swapped": {
            "cross_features": (
                CROSS.format(formula="x * (ops.matmul(x0, kernel) + bias) + x0"),
                "x0 and x are swapped",
            ),
            "ndcg_at_k": (
                NDCG.format(wanted="set(relevant)", offset=2, cut=""),
                "only the first k positions count",
            ),
        },
    },
    "08_scoring_torch": {
        "left": {
            "cross_features": (
                CROSS.format(formula="x0 * (torch.matmul(kernel, x) + bias) + x"),
                "x @ kernel, not kernel @ x",
            ),
            "ndcg_at_k": (NDCG.format(wanted="list(relevant)", offset=2, cut="[:k]"), "counts once"),
        },
        "residual": {
            "cross_features": (
                CROSS.format(formula="x0 * (torch.matmul(x, kernel) + bias)"),
                "add x back at the end",
            ),
            "ndcg_at_k": (
                NDCG.format(wanted="set(relevant)", offset=3, cut="[:k]"),
                "in the DCG and in the ideal DCG alike",
            ),
        },
        "swapped": {
            "cross_features": (
                CROSS.format(formula="x * (x0 @ kernel + bias) + x0"),
                "x0 and x are swapped",
            ),
            "ndcg_at_k": (
                NDCG.format(wanted="set(relevant)", offset=2, cut=""),
                "only the first k positions count",
            ),
        },
    },
    "09_reranking": {
        "sums": {
            "mmr": (
                MMR.format(best="int(np.argmax(value))", penalty="similarity[:, chosen].sum(axis=1)"),
                "not their sum",
            ),
            "freshness_boost": (
                FRESH.format(age=RIGHT_AGE, boost="weight * 0.5 ** (age / half_life)"),
                "an unknown year (NaN) gets no boost",
            ),
            "cap_exposure": (
                CAP.format(limit="int(np.floor(max_share * k))", result=RIGHT_RESULT),
                "each group may keep at least 1",
            ),
        },
        "smallest": {
            "mmr": (
                MMR.format(best="int(np.argmax(value))", penalty="similarity[:, chosen].min(axis=1)"),
                "not their sum, mean or smallest",
            ),
            "freshness_boost": (
                FRESH.format(age="current_year - years", boost=RIGHT_BOOST),
                "2001 is after 1998: age 0",
            ),
            "cap_exposure": (CAP.format(limit=RIGHT_LIMIT, result="taken"), "then 2 and 3 fill the list"),
        },
        "later": {
            "mmr": (
                MMR.format(
                    best="len(value) - 1 - int(np.argmax(value[::-1]))",
                    penalty="similarity[:, chosen].max(axis=1)",
                ),
                "equal values: the earlier candidate first",
            ),
            "freshness_boost": (
                FRESH.format(age=RIGHT_AGE, boost="np.where(np.isnan(years), 0.0, weight * 0.5 ** age)"),
                "the boost halves every half_life years",
            ),
            "cap_exposure": (
                CAP.format(limit="max(1, int(np.ceil(max_share * k)))", result=RIGHT_RESULT),
                "floor(2.5) = 2 per group (rounded down)",
            ),
        },
    },
    "10_implicit_feedback": {
        "counted": {
            "weighted_solve": (
                SOLVE.format(gram="(rows.T * c) @ rows", reg=RIGHT_REG, rhs="c"),
                "add Y_u^T (C_u - I) Y_u, not Y_u^T C_u Y_u",
            ),
            "bpr_loss_grad": (
                BPR.format(g=RIGHT_G, loss="float(np.sum(np.logaddexp(0.0, -z)))", grad_j="-g * x_u"),
                "the mean over the batch, not the sum",
            ),
            "claim": (
                CLAIM.format(winner='results["tuned NDCG@20"].idxmax()', best="max", against="best_other"),
                "B has the higher NDCG only",
            ),
        },
        "unregularised": {
            "weighted_solve": (
                SOLVE.format(gram=RIGHT_GRAM, reg="0.0", rhs="c"),
                "add lam * I to the matrix before solving",
            ),
            "bpr_loss_grad": (
                BPR.format(g="-expit(-z)[:, None]", loss=RIGHT_LOSS, grad_j="-g * x_u"),
                "divide by the batch size B",
            ),
            "claim": (
                CLAIM.format(winner=RIGHT_WINNER, best="min", against="best_other"),
                "not the worst",
            ),
        },
        "naive": {
            "weighted_solve": (
                SOLVE.format(gram=RIGHT_GRAM, reg=RIGHT_REG, rhs="(c * np.asarray(ratings))"),
                "the preference is 1 on the user's items (not the rating)",
            ),
            "bpr_loss_grad": (
                BPR.format(g=RIGHT_G, loss="float(np.mean(np.log(1 + np.exp(-z))))", grad_j="-g * x_u"),
                "use np.logaddexp(0, -z), which does not overflow",
            ),
            "claim": (
                CLAIM.format(
                    winner=RIGHT_WINNER,
                    best="max",
                    against='results.drop(index=winner)["untuned Recall@20"].max()',
                ),
                "compare the winner untuned with the OTHERS TUNED",
            ),
        },
    },
    "11_evaluation_protocol": {
        "ties": {
            "leave_last_out": (
                LAST.format(
                    pick='last = ratings.sort_values(["timestamp", "movie_id"], ascending=[True, False])'
                    '.groupby("user_id").tail(1)',
                    least=2,
                ),
                "hold out the larger movie id",
            ),
            "sampled_hits": (
                HITS.format(above="(scores[rows[:, None], negatives] > target).sum(axis=1)", compare="<"),
                "count as ranked above it",
            ),
            "bootstrap_interval": (
                INTERVAL.format(state="", result=PERCENTILES),
                "draw with rng = np.random.default_rng(random_state)",
            ),
        },
        "inclusive": {
            "leave_last_out": (LAST.format(pick=RIGHT_PICK, least=1), "user 2 has a single interaction"),
            "sampled_hits": (HITS.format(above=OWN_NEGATIVES, compare="<="), "the top k holds k items"),
            "bootstrap_interval": (
                INTERVAL.format(
                    state="random_state",
                    result="return float(np.quantile(means, 1 - level)), float(np.quantile(means, level))",
                ),
                "a 90% interval leaves 5% out on each side",
            ),
        },
        "catalogue": {
            "leave_last_out": (
                LAST.format(
                    pick='last = ratings.sort_values("timestamp").groupby("user_id").head(1)', least=2
                ),
                "not the first",
            ),
            "sampled_hits": (
                HITS.format(above="(scores >= target).sum(axis=1) - 1", compare="<"),
                "is not one of its negatives",
            ),
            "bootstrap_interval": (
                INTERVAL.format(
                    state="random_state",
                    result="return float(values.mean() - 1.645 * means.std()), "
                    "float(values.mean() + 1.645 * means.std())",
                ),
                "not the mean plus or minus z standard errors",
            ),
        },
    },
}
VISIBLE = re.compile(
    r"^(?P<cell>\w+_tests): (?P<earned>[\d.]+) of (?P<visible>[\d.]+) visible point", re.MULTILINE
)


def _hand_in(name: str, answers: dict[str, str], folder: Path) -> Path:
    """The released notebook with the solutions' answers, except the planted ones."""
    solved = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    }
    nb = nbformat.read(ROOT / "notebooks" / name / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            # The TensorFlow notebook's cell imports keras.ops; the PyTorch one's uses torch, imported above.
            prefix = (
                "from keras import ops\n\n\n" if (name, grade_id) == ("08_scoring", "cross_features") else ""
            )
            cell.source = prefix + answers[grade_id]
        elif grade_id in solved:
            cell.source = "\n".join(
                line for line in solved[grade_id].splitlines() if line.strip() not in MARKERS
            )
    path = folder / name / f"{name}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return path


def _check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "movierec_helpers.check", str(path)],
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Each planted student's check, then the whole class graded; (checks, graded scores)."""
    root = tmp_path_factory.mktemp("planted")
    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    jobs = {
        (name, student): _hand_in(
            name, {e: a for e, (a, _) in mistakes.items()}, root / "submitted" / student
        )
        for name, students in PLANTED.items()
        for student, mistakes in students.items()
    }
    with ThreadPoolExecutor(2) as pool:
        checks = dict(zip(jobs, pool.map(_check, jobs.values())))
    for name in PLANTED:
        assert main(["--course", str(root), "autograde", name, "--jobs", "2"]) == 0
    from nbgrader.api import Gradebook

    graded = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for name in PLANTED:
            for sub in gb.assignment_submissions(name):
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        if grade.auto_score is not None:
                            graded[(name, sub.student_id, grade.name)] = grade.auto_score
    feedback = {
        key: path.parents[3].joinpath("autograded", key[1], key[0], path.name).read_text()
        for key, path in jobs.items()
    }
    return checks, graded, feedback


@pytest.mark.parametrize("name,student", [(n, s) for n, students in PLANTED.items() for s in students])
def test_make_check_refuses_each_planted_mistake_naming_it(planted, name, student):
    checks, _, _ = planted
    done = checks[(name, student)]
    assert done.returncode == 1 and "ready to hand in" not in done.stdout, done.stdout
    for exercise, (_, phrase) in PLANTED[name][student].items():
        failed = [line for line in done.stdout.splitlines() if line.startswith(f"! {exercise}_tests: ✗")]
        assert failed, f"{exercise}: make check does not name the mistake\n{done.stdout}"
        assert phrase in done.stdout, f"{exercise}: expected {phrase!r} in\n{done.stdout}"


def _graded_checks(notebook_json: str, cell_id: str) -> tuple[float, float]:
    """(points from visible checks, points from hidden checks) of one test cell of a graded notebook."""
    nb = nbformat.reads(notebook_json, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == cell_id)
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    visible = hidden = 0.0
    for line in text.splitlines():
        score = re.match(r"^[✓✗] (?P<label>.*) \((?P<earned>[\d.]+) of [\d.]+\)", line)
        if score:
            if score["label"].startswith("a hidden check"):
                hidden += float(score["earned"])
            else:
                visible += float(score["earned"])
    return visible, hidden


@pytest.mark.parametrize("name,student", [(n, s) for n, students in PLANTED.items() for s in students])
def test_grading_gives_exactly_the_visible_points_make_check_reported(planted, name, student):
    checks, graded, feedback = planted
    out = checks[(name, student)].stdout
    reported = {m["cell"]: (float(m["earned"]), float(m["visible"])) for m in VISIBLE.finditer(out)}
    assert {f"{e}_tests" for e in PLANTED[name][student]} <= set(reported), out
    planted_cells = {f"{e}_tests" for e in PLANTED[name][student]}
    for cell, (earned, visible) in reported.items():
        if cell in planted_cells:
            assert earned < visible, f"{cell}: the planted mistake costs points"
        else:
            assert earned == visible, f"{cell}: the solution's answer keeps its points"
        from_visible, from_hidden = _graded_checks(feedback[(name, student)], cell)
        assert from_visible == earned, (
            f"{cell}: the check said {earned} of {visible}; grading gave {from_visible}"
        )
        assert graded[(name, student, cell)] == from_visible + from_hidden
    for exercise, (_, phrase) in PLANTED[name][student].items():
        assert phrase in feedback[(name, student)], f"the graded notebook names the mistake in {exercise}"


def test_an_unanswered_written_question_stops_make_check_with_its_points(planted):
    checks, _, _ = planted
    out = checks[("08_scoring", "left")].stdout
    assert "! scoring_answer (under " in out and "is not answered yet: 2 points graded by hand" in out, out
