"""Mutation testing of the graded exercises: the operators, the runner, and a fixed sample of
known mutants that the hidden tests must keep killing (the full measure is `make test-strength`)."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from movierec_helpers.exercises.reference import library_answers
from movierec_instructor import course
from movierec_instructor.cli import main
from movierec_instructor.integrity.similarity import import_library
from movierec_instructor.strength.mutation import all_mutants, expression_mutants
from movierec_instructor.strength.runner import load_equivalents, measure_assignment
from movierec_instructor.strength.shortcuts import answers_of_track, library_shortcut_mutants

ROOT = Path(__file__).resolve().parents[3]

CELL = '''def loss(U, V, labels):
    """Doc."""
    n = 3  # outside the solution: never mutated
    ### BEGIN SOLUTION
    logits = tf.matmul(U, V, transpose_b=True)
    total = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    return total / (n - 1) + 2 * tf.reduce_sum(U, axis=1)[0]
    ### END SOLUTION
'''

# A fixed sample per exercise: the holes the issue found (library shortcuts, the naive
# softmax), and the mutants that survived before the hidden tests were strengthened.
KNOWN = {
    "01_exploring_movielens": {
        "best_rated": [
            'boolean: True -> False in `table = table.sort_values(["rating mean", "movie_id"], '
            "ascending=[False, True])`"
        ],
        "most_rated": [
            'mean/sum: "mean" -> \'sum\' in `stats = ratings.groupby("movie_id")["rating"]'
            '.agg(["count", "mean"]).reset_index()`'
        ],
    },
    "02_matrix_factorization": {
        "mse_gather": [
            "library shortcut: the solution -> from movierec_helpers.models.tensorflow.losses import "
            "sparse_mean_square_error as library_answer; return library_answer(sparse_ratings="
            "sparse_ratings, user_embeddings=user_embeddings, movie_embeddings=movie_embeddings)"
        ],
        "build_model": [
            "drop argument: generator.normal([num_users, embedding_dim], stddev=init_stddev) -> "
            "generator.normal([num_users, embedding_dim]) in `U = tf.Variable(generator.normal("
            "[num_users, embedding_dim], stddev=init_stddev))`"
        ],
    },
    "03_inspecting_embeddings": {
        "compute_scores": [
            "off-by-one: 0 -> 1 in `safe = np.where(denominator > 0, denominator, 1.0)`",
            "off-by-one: 0 -> 1 in `return np.where(denominator > 0, V.dot(u) / safe, 0.0)`",
        ],
    },
    "04_regularization": {
        "regularized_model": [
            "return constant: return sparse_mean_square_error(A_train, U, V) -> return 0.0",
            "swap arguments: sparse_mean_square_error(A_test, U, V) -> sparse_mean_square_error(A_test, V, "
            "U) in "
            '`"test_error_observed": lambda: sparse_mean_square_error(A_test, U, V)},`',
        ],
    },
    "05_softmax_model": {
        "softmax_loss": [
            "naive formula: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)"
            " -> -tf.math.log(tf.gather((tf.exp(logits) / tf.reduce_sum(tf.exp(logits), axis=-1, "
            "keepdims=True)), labels, batch_dims=1)) in `return tf.reduce_mean(tf.nn.sparse_softmax_"
            "cross_entropy_with_logits(labels=labels, logits=logits))`"
        ],
        "user_embeddings": ["library shortcut: the solution -> return network(bag_weights=bag_weights)"],
    },
    "08_scoring": {
        "cross_features": [
            "library shortcut: the solution -> from movierec_helpers.models.tensorflow.ranker import "
            "cross_features "
            "as library_answer; return library_answer(x0=x0, x=x, kernel=kernel, bias=bias)"
        ],
    },
    "09_reranking": {
        "mmr": [
            "library shortcut: the solution -> from movierec_helpers.serving.rerank import mmr as "
            "library_answer; "
            "return library_answer(candidates=candidates, relevance=relevance, similarity=similarity, k=k, "
            "lam=lam)"
        ],
    },
    "10_implicit_feedback": {
        "weighted_solve": [
            "library shortcut: the solution -> from movierec_helpers.models.implicit.als import "
            "weighted_solve as library_answer; return library_answer(Y=Y, YtY=YtY, items=items, "
            "ratings=ratings, alpha=alpha, lam=lam)"
        ],
        "bpr_loss_grad": [
            "library shortcut: the solution -> from movierec_helpers.models.implicit.bpr import "
            "bpr_loss_grad as library_answer; return library_answer(x_u=x_u, y_i=y_i, y_j=y_j)"
        ],
    },
    "11_evaluation_protocol": {
        "leave_last_out": [
            "library shortcut: the solution -> from movierec_helpers.evaluation.protocol import "
            "leave_last_out as library_answer; return library_answer(ratings=ratings)"
        ],
        "sampled_hits": [
            "library shortcut: the solution -> from movierec_helpers.evaluation.sampled import "
            "sampled_ranks as library_answer; return library_answer(scores=scores, heldout=heldout, "
            "negatives=negatives)"
        ],
        "bootstrap_interval": [
            "library shortcut: the solution -> from movierec_helpers.evaluation.bootstrap import "
            "bootstrap_means as library_answer; return library_answer(values=values, "
            "n_resamples=n_resamples, random_state=random_state)"
        ],
    },
    "07_retrieval": {
        "top_k_unseen": [
            "library shortcut: the solution -> from movierec_helpers.serving.retrieval import exact_top_k "
            "as library_answer; return library_answer(user_vector=user_vector, item_vectors=item_vectors, "
            "rated=rated, k=k)"
        ],
    },
    "06_keras_embeddings": {
        "bias_ranking": [
            'off-by-one: 0 -> 1 in `table["rating count"] = stats["count"].reindex(range(len(table)))'
            ".fillna(0).astype(int).to_numpy()`"
        ],
        "deep_model": [
            "drop argument: keras.layers.Rescaling(1.0, offset=global_mean) -> keras.layers.Rescaling(1.0) "
            "in `return keras.Model([user_in, movie_in], keras.layers.Rescaling(1.0, offset=global_mean)(x))`"
        ],
    },
    # The PyTorch track: the port's own mistakes (coalescing), and the library answer of the track.
    "02_matrix_factorization_torch": {
        "mse_dense": [
            "sparse order: sparse_ratings.coalesce() -> sparse_ratings in `ratings = "
            "sparse_ratings.coalesce()`"
        ],
        "mse_gather": [
            "library shortcut: the solution -> from movierec_helpers.models.torch.losses import "
            "sparse_mean_square_error as library_answer; return library_answer(sparse_ratings="
            "sparse_ratings, user_embeddings=user_embeddings, movie_embeddings=movie_embeddings)"
        ],
        "build_model": [
            "drop argument: torch.randn(num_movies, embedding_dim, generator=generator) -> "
            "torch.randn(num_movies, embedding_dim) in `V = torch.randn(num_movies, "
            "embedding_dim, generator=generator) * init_stddev`"
        ],
        "fit": ["forgot zero_grad: optimizer.zero_grad() -> pass"],
    },
    "03_inspecting_embeddings_torch": {
        "compute_scores": ["off-by-one: 0 -> 1 in `safe = np.where(denominator > 0, denominator, 1.0)`"],
    },
    "04_regularization_torch": {
        "gravity": [
            "transpose: U.T -> U in `return torch.sum((U.T @ U) * (V.T @ V)) / (U.shape[0] * V.shape[0])`"
        ],
    },
    "08_scoring_torch": {
        "cross_features": [
            "library shortcut: the solution -> from movierec_helpers.models.torch.ranker import "
            "cross_features "
            "as library_answer; return library_answer(x0=x0, x=x, kernel=kernel, bias=bias)"
        ],
    },
    "06_embedding_models_torch": {
        "bias_ranking": [
            'off-by-one: 0 -> 1 in `table["rating count"] = stats["count"].reindex(range(len(table)))'
            ".fillna(0).astype(int).to_numpy()`"
        ],
        "deep_model": [
            "drop term: self.network(pair)[:, 0] + self.global_mean -> self.network(pair)[:, 0] in "
            "`return self.network(pair)[:, 0] + self.global_mean`"
        ],
    },
    "05_softmax_model_torch": {
        "softmax_loss": [
            'naive formula: torch.nn.functional.cross_entropy(logits, labels, reduction="mean") -> '
            "(-torch.log((torch.exp(logits) / torch.exp(logits).sum(dim=-1, keepdim=True)).gather(1, "
            "labels.reshape(-1, 1)).squeeze(1))).mean() in `return torch.nn.functional.cross_entropy(logits, "
            'labels, reduction="mean")`'
        ],
        "user_embeddings": [
            "library shortcut: the solution -> return network.forward(bag_weights=bag_weights)"
        ],
    },
}


# Three common mistakes per graded exercise (taken from the mutation operators) and the exact
# phrase the student reads for each (issue #21): a unique part of the mutant's key -> phrase.
MISTAKES = {
    "01_exploring_movielens": {
        "most_rated": [
            (
                "[False, True] -> [True, False]",
                "sort the most rated first: the first movie has 1 rating(s), the most rated one has 583",
            ),
            (
                "-> ['rating count', 'title', 'rating mean']",
                "the columns should be title, rating count, rating mean; got ['rating count', 'title', "
                "'rating mean']",
            ),
            ("head(n).reset_index() in", "got ['index', 'title', 'rating count', 'rating mean']"),
        ],
        "best_rated": [
            ("stats['rating count'] >= min_count", "a movie with exactly min_count=1 rating was kept"),
            (
                "table.sort_values(['rating mean', 'movie_id']) in",
                "sort by mean rating, best first; the means came out as",
            ),
            (
                "-> ['title', 'rating mean', 'rating count']",
                "the columns should be title, rating count, rating mean; got ['title', 'rating mean', "
                "'rating count']",
            ),
        ],
    },
    "02_matrix_factorization": {
        "sparse_tensor": [
            ("ratings_df['rating'].to_numpy() in", "values should be float32, got <dtype: 'float64'>"),
            (
                "[num_users, num_movies] -> [num_movies, num_users]",
                "dense_shape should be [num_users, num_movies]",
            ),
            (
                "[\"user_id\", \"movie_id\"] -> ['movie_id', 'user_id']",
                "column 0 of the indices holds user ids ([0, 1] here), column 1 movie ids; got user ids "
                "[0, 1, 3]",
            ),
        ],
        "mse_dense": [
            (
                "mean/sum: tf.reduce_mean -> tf.reduce_sum",
                "that is the SUM of the squared errors: return their MEAN",
            ),
            (
                "drop term: sparse_ratings.values - predictions -> sparse_ratings.values",
                "that is the mean of the squared RATINGS: subtract the predictions",
            ),
            (
                "transpose_b=True) -> tf.matmul(user_embeddings, movie_embeddings) in",
                "Matrix size-incompatible",
            ),
        ],
        "mse_gather": [
            (
                "mean/sum: tf.reduce_mean -> tf.reduce_sum",
                "that is the SUM of the squared errors: return their MEAN",
            ),
            ("axis: axis=1 -> axis=0", "Incompatible shapes: [3] vs. [2]"),
            (
                "off-by-one: 1 -> 0 in `movies_",
                "gather the rows of U (column 0 of the indices) and of V (column 1)",
            ),
        ],
        "build_model": [
            (
                "generator.normal([num_movies, embedding_dim]) in",
                "draw the initial embeddings with stddev init_stddev",
            ),
            (
                "[num_users, embedding_dim] -> [embedding_dim, num_users]",
                "The user embedding dimension 943 must match the movie embedding dimension 4",
            ),
            (
                "return sparse_mean_square_error_gather(A_test, U, V) -> return 0.0",
                "the seed argument; test_error is the MSE on the test ratings",
            ),
        ],
    },
    "03_inspecting_embeddings": {
        "compute_scores": [
            (
                "np.linalg.norm(V, axis=1) -> np.linalg.norm(V) in",
                "divide by each item's own norm, not the norm of the whole matrix",
            ),
            ("drop normalisation: V.dot(u) / safe -> V.dot(u)", "cosine divides <u, V_j> by ||u|| ||V_j||"),
            (
                "denominator > 0 -> denominator >= 0 in `safe",
                "zero vectors, the query norm, unknown measures, the learned embeddings",
            ),
        ],
    },
    "04_regularization": {
        "gravity": [
            ("drop normalisation:", "that is the SUM over all N*M pairs: divide by N*M for the MEAN"),
            (
                "mean/sum: tf.reduce_sum -> tf.reduce_mean",
                "gravity is the MEAN over all N*M pairs of the squared dot product",
            ),
            ("tf.matmul(U, U, transpose_a=True) -> tf.matmul(U, U) in", "Matrix size-incompatible"),
        ],
        "regularized_model": [
            (
                "drop normalisation: tf.reduce_sum(U * U) / num_users -> tf.reduce_sum(U * U) in",
                "regularization_loss = lambda_r * (sum|U|^2/N + sum|V|^2/M)",
            ),
            ("return gravity_coeff * gravity(U, V) -> return 0.0", "gravity_loss = lambda_g * gravity(U, V)"),
            (
                "observed() + regularization() + gravity_loss() -> observed() + regularization() in",
                "coefficients scale the terms; the loss is their sum",
            ),
        ],
    },
    "02_matrix_factorization_torch": {
        "sparse_tensor": [
            ('drop argument: ratings_df["rating"]', "values should be float32, got torch.float64"),
            (
                ".coalesce() -> torch.sparse_coo_tensor(indices, values, (num_users, num_movies)) in",
                "return the tensor coalesced (.coalesce())",
            ),
            ("transpose:", "torch.sparse_coo_tensor wants indices of shape (2, number of entries)"),
        ],
        "mse_dense": [
            ("mean/sum: torch.mean -> torch.sum", "that is the SUM of the squared errors: return their MEAN"),
            (
                "drop term: ratings.values() - predictions -> ratings.values() in",
                "that is the mean of the squared RATINGS: subtract the predictions",
            ),
            (
                "sparse order: sparse_ratings.coalesce() -> sparse_ratings in",
                "call .coalesce() on the sparse tensor first, then use its indices() and values() together",
            ),
        ],
        "mse_gather": [
            ("mean/sum: torch.mean -> torch.sum", "that is the SUM of the squared errors: return their MEAN"),
            ("axis: dim=1 -> dim=0", "The size of tensor a (3) must match the size of tensor b (2)"),
            (
                "sparse order: sparse_ratings.coalesce() -> sparse_ratings in",
                "call .coalesce() on the sparse tensor first",
            ),
        ],
        "build_model": [
            (
                "(torch.randn(num_movies, embedding_dim, generator=generator) / init_stddev)",
                "draw the initial embeddings with stddev init_stddev",
            ),
            (
                "swap arguments: torch.randn(num_users, embedding_dim, generator=generator) -> "
                "torch.randn(embedding_dim",
                "The user embedding dimension 943 must match the movie embedding dimension 4",
            ),
            (
                "drop argument: torch.randn(num_users, embedding_dim, generator=generator) -> "
                "torch.randn(num_users, "
                "embedding_dim) in",
                "the seed argument; test_error is the MSE on the test ratings",
            ),
        ],
        "fit": [
            ("forgot zero_grad:", "the gradients of every step added up: call optimizer.zero_grad()"),
            ("forgot step:", "the loss never changed: call loss.backward(), then optimizer.step()"),
            (
                "host sync: loss.detach() -> loss.item()",
                "keep each loss as a tensor (loss.detach()) and torch.stack them after the loop",
            ),
        ],
    },
    "04_regularization_torch": {
        "gravity": [
            ("drop normalisation:", "that is the SUM over all N*M pairs: divide by N*M for the MEAN"),
            (
                "mean/sum: torch.sum -> torch.mean",
                "gravity is the MEAN over all N*M pairs of the squared dot product",
            ),
            ("transpose: U.T -> U in", "mat1 and mat2 shapes cannot be multiplied"),
        ],
        "regularized_model": [
            (
                "drop normalisation: torch.sum(U * U) / num_users -> torch.sum(U * U) in",
                "regularization_loss = lambda_r * (sum|U|^2/N + sum|V|^2/M)",
            ),
            (
                "return gravity_coeff * gravity(mf.U, mf.V) -> return 0.0",
                "gravity_loss = lambda_g * gravity(U, V)",
            ),
            (
                "gravity_loss(mf) -> observed(mf) + regularization(mf) in",
                "coefficients scale the terms; the loss is their sum",
            ),
        ],
    },
    "05_softmax_model": {
        "softmax_loss": [
            (
                "mean/sum: tf.reduce_mean -> tf.reduce_sum",
                "that is the SUM of the per-example losses: return their MEAN over the batch",
            ),
            (
                "transpose_b=True) -> tf.matmul(user_embeddings, movie_embeddings) in",
                "Matrix size-incompatible",
            ),
            ("naive formula", "large logits: finite and exact"),
        ],
        "user_embeddings": [
            (
                "axis: axis=1 -> axis=0 in `layer = tf.concat",
                "ConcatOp : Dimension 1 in both shapes must be equal",
            ),
            (
                "weight * HIDDEN_SCALE -> (weight / HIDDEN_SCALE)",
                "psi = [bag of each feature, concatenated] @ (hidden weights * HIDDEN_SCALE)",
            ),
            (
                "library shortcut",
                "Your code called movierec_helpers' SoftmaxNetwork.__call__, the library's own answer",
            ),
        ],
    },
    "06_keras_embeddings": {
        "biased_model": [
            ("keras.layers.Rescaling(1.0) in", "predictions start near the global mean"),
            ("off-by-one: 1 -> 2 in `user_bias", "predict [batch, 1] ratings, got (2, 2)"),
            ("keras.layers.Embedding(num_movies, 1) in", "No such layer: movie_bias"),
        ],
        "deep_model": [
            ("70 -> 71", "Dense layers should be 70 (relu) then 1, got [71, 1]"),
            (
                "keras.layers.Dense(70) in",
                "relu, concatenation, dropout rates; an output layer without activation",
            ),
            (
                "[user_in, movie_in] -> [movie_in, user_in]",
                "relu, concatenation, dropout rates; an output layer without activation",
            ),
        ],
        "bias_ranking": [
            (
                "table['rating count'] > min_count",
                "movies a and b have 2 ratings each, at least min_count=2: keep them; got []",
            ),
            (
                "table.sort_values('bias', kind='stable') in",
                "best=True: highest bias first (a: 0.5, b: -0.2); got ['b', 'a']",
            ),
            ('off-by-one: 0 -> 1 in `table["rating count"]', "a movie nobody rated has rating count 0"),
        ],
    },
    "06_embedding_models_torch": {
        "biased_model": [
            ("-> super().forward(users, movies) + biases in", "predictions start near the global mean"),
            (
                "off-by-one: 1 -> 2 in `self.user_bias",
                "expected user/movie factors and biases, got tables of sizes",
            ),
            (
                "off-by-one: 1 -> 2 in `self.movie_bias",
                "the movie_bias table is an nn.Embedding(num_movies, 1)",
            ),
        ],
        "deep_model": [
            (
                "nn.Linear(70, 1) -> nn.Linear(1, 70)",
                "nn.Linear layers should be 70 (relu) then 1, got [70, 70]",
            ),
            ("-> self.network(pair)[:, 0] in", "add the global mean"),
            ("off-by-one: 2 -> 1 in `layers", "mat1 and mat2 shapes cannot be multiplied"),
        ],
        "bias_ranking": [
            (
                "table['rating count'] > min_count",
                "movies a and b have 2 ratings each, at least min_count=2: keep them; got []",
            ),
            (
                "table.sort_values('bias', kind='stable') in",
                "best=True: highest bias first (a: 0.5, b: -0.2); got ['b', 'a']",
            ),
            ('off-by-one: 0 -> 1 in `table["rating count"]', "a movie nobody rated has rating count 0"),
        ],
    },
    "07_retrieval": {
        "top_k_unseen": [
            ("drop statement: unseen", "movie 1 is rated: leave rated movies out; got [1, 3]"),
            (
                "sign: -scores[ids] -> scores[ids]",
                "best first: movie 3 scores 2.5, the highest of the unseen; got [4, 0]",
            ),
            ("off-by-one: k -> k + 1", "k=2 asks for 2 movies, got 3"),
            (
                "tie order: np.lexsort((ids, -scores[ids])) -> np.lexsort((-ids, -scores[ids]))",
                "movies 0 and 2 tie at 1.0: the smaller id first",
            ),
        ],
        "fastest_meeting_recall": [
            (
                "measurements['recall@10'] > recall_floor",
                "a recall equal to the floor meets it (recall@10 >= recall_floor)",
            ),
            (
                "off-by-one: 0 -> 1 in `return good.iloc",
                "M=8, ef_search=10 reaches 0.96 with 500 distances, the lowest cost; got {'M': 8.0, "
                "'ef_search': 40.0",
            ),
            ("return constant", "return the row as a pd.Series, got float"),
        ],
    },
    "08_scoring": {
        "cross_features": [
            (
                "drop term: x0 * (ops.matmul(x, kernel) + bias) + x -> x0 * (ops.matmul(x, kernel) + bias) "
                "in",
                "add x back at the end (the residual + x)",
            ),
            (
                "ops.matmul(x, kernel) -> ops.matmul(kernel, x)",
                "multiply x by the kernel on the left of it: x @ kernel, not kernel @ x",
            ),
            ("return constant", "return [batch, d], got shape ()"),
        ],
        "ndcg_at_k": [
            (
                "drop normalisation: dcg / ideal -> dcg",
                "divide by the ideal DCG (the best possible list) to normalise",
            ),
            (
                "off-by-one: 2 -> 3 in `dcg",
                "position i (1 = top) earns 1 / log2(i + 1): the top position earns 1",
            ),
            (
                "off-by-one: k -> k + 1 in `dcg",
                "only the first k positions count (movie 1 is at position 4, past k=3)",
            ),
        ],
    },
    "09_reranking": {
        "mmr": [
            (
                "lam * relevance - (1 - lam) * closest -> (lam * relevance + (1 - lam) * closest)",
                "subtract the highest similarity to the chosen movies: after 10, movie 12",
            ),
            ("drop statement: available[best] = False", "each candidate at most once; got [10, 10, 10]"),
            (
                "drop term: 1 - lam -> 1 in",
                "with lam = 1 only relevance counts: expected [10, 11, 12], got [10, 12, 13]",
            ),
            (
                "aggregation: np.maximum(closest, similarity[:, best]) -> (closest + similarity[:, best])",
                "the penalty is the largest of the similarities, not their sum",
            ),
            (
                "aggregation: np.maximum(closest, similarity[:, best]) -> np.minimum(",
                "the penalty is the largest of the similarities, not their sum, mean or smallest",
            ),
        ],
        "freshness_boost": [
            ("drop term: np.asarray(scores, dtype=float) + boost -> boost", "add the boost to the score"),
            ("drop normalisation: age / half_life -> age", "the boost halves every half_life years"),
            (
                "current_year - years -> (current_year + years)",
                "no boost came through: the age is current_year - year",
            ),
            ("NaN handling dropped", "an unknown year (NaN) gets no boost"),
            (
                "clamp dropped: np.maximum(0.0, current_year - years)",
                "2001 is after 1998: age 0, the whole weight 0.4",
            ),
        ],
        "cap_exposure": [
            ("off-by-one: 1 -> 2 in `limit", "expected [1, 4, 2, 3], got [1, 2, 4, 3]"),
            ("drop statement: count[group]", "with k=4 and max_share=0.5 each group keeps at most 2"),
            ("off-by-one: 1 -> 0 in `limit", "floor(0.1 * 2) is 0, but each group may keep at least 1"),
            ("clamp dropped: max(1, ", "floor(0.1 * 2) is 0, but each group may keep at least 1"),
        ],
    },
    "10_implicit_feedback": {
        "weighted_solve": [
            (
                "drop term: 1.0 + alpha * np.asarray(ratings) -> alpha * np.asarray(ratings)",
                "the confidence is 1 + alpha * r, not alpha * r",
            ),
            ("drop term: confidence - 1.0 -> confidence in", "add Y_u^T (C_u - I) Y_u, not Y_u^T C_u Y_u"),
            (
                "-> YtY + rows.T * (confidence - 1.0) @ rows in",
                "add lam * I to the matrix before solving (the L2 regularisation)",
            ),
        ],
        "bpr_loss_grad": [
            ("mean/sum: np.mean -> np.sum", "the mean over the batch, not the sum"),
            (
                "drop normalisation: -expit(-z)[:, None] / len(z) -> -expit(-z)[:, None] in",
                "the gradient of the mean: divide by the batch size B",
            ),
            ("sign: -g -> g", "grad_j: the sign: the loss falls as z rises"),
            ("sign: -z -> z in `return", "this is log(1 + exp(z))"),
        ],
        "claim": [
            ("-> ['tuned NDCG@20', 'tuned Recall@20']", "B has the higher NDCG only"),
            ("-> results.drop(index=winner)['tuned Recall@20'].min()", "not the worst"),
            ("comparison: results.loc[winner", "strictly higher is required, so wins_untuned is False"),
        ],
    },
    "11_evaluation_protocol": {
        "leave_last_out": [
            (
                'swap arguments: ["timestamp", "movie_id"]',
                "hold out the interaction with the latest timestamp",
            ),
            ("comparison: size >= 2 -> size > 2", "user 3 has two interactions, so one is held out"),
            ("off-by-one: 2 -> 1", "user 2 has a single interaction: it stays in training"),
        ],
        "sampled_hits": [
            (
                "scores[rows, heldout][:, None] -> scores[rows[:, None], negatives] > scores",
                "its four negatives tie with the held-out item and count as ranked above it",
            ),
            ("comparison: above < k -> above <= k", "the top k holds k items, ranks 1 to k"),
            ("axis: axis=1 -> axis=0", "one value per user (3 here), got shape (4,)"),
        ],
        "bootstrap_interval": [
            ("seed dropped", "draw with rng = np.random.default_rng(random_state)"),
            ("drop normalisation: (1 - level) / 2 -> 1 - level", "a 90% interval leaves 5% out on each side"),
            ("swap arguments: float(np.quantile(means, tail)), float(", "low first, then high"),
        ],
    },
}
MISTAKES["05_softmax_model_torch"] = {
    "softmax_loss": [
        (
            "mean/sum: \"mean\" -> 'sum'",
            "that is the SUM of the per-example losses: return their MEAN over the batch",
        ),
        ("transpose: movie_embeddings.T -> movie_embeddings in", "mat1 and mat2 shapes cannot be multiplied"),
        ("naive formula", "large logits: finite and exact"),
    ],
    "user_embeddings": [
        ("axis: dim=1 -> dim=0 in `layer = torch.cat", "Sizes of tensors must match except in dimension 0"),
        (
            "hidden(layer) * HIDDEN_SCALE -> (hidden(layer) / HIDDEN_SCALE)",
            "psi = [bag of each feature, concatenated] @ (hidden weights * HIDDEN_SCALE)",
        ),
        (
            "library shortcut",
            "Your code called movierec_helpers' SoftmaxNetwork.forward, the library's own answer",
        ),
    ],
}
# Notebook 03's exercise is NumPy in both tracks: the same mistakes, the same words.
MISTAKES["03_inspecting_embeddings_torch"] = MISTAKES["03_inspecting_embeddings"]
# Notebook 08 in PyTorch: the cross in torch operations, the same NDCG in NumPy.
MISTAKES["08_scoring_torch"] = {
    "cross_features": [
        (
            "drop term: x0 * (torch.matmul(x, kernel) + bias) + x -> x0 * (torch.matmul(x, kernel) + bias) "
            "in",
            "add x back at the end (the residual + x)",
        ),
        (
            "torch.matmul(x, kernel) -> torch.matmul(kernel, x)",
            "multiply x by the kernel on the left of it: x @ kernel, not kernel @ x",
        ),
        ("return constant", "return [batch, d], got shape ()"),
    ],
    "ndcg_at_k": MISTAKES["08_scoring"]["ndcg_at_k"],
}


def _mistake_keys(assignment: str) -> dict[str, dict[str, str]]:
    """exercise -> {exact mutant key: phrase}, each part matching exactly one mutant."""
    import_library()
    nb = nbformat.read(course.notebook_path(ROOT, assignment), as_version=4)
    found = {}
    for exercise, mistakes in MISTAKES[assignment].items():
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == exercise)
        answers = answers_of_track(library_answers(exercise), course.track_of(ROOT, assignment))
        keys = [m.key for m in all_mutants(exercise, cell.source, answers)]
        found[exercise] = {}
        for part, phrase in mistakes:
            matches = [k for k in keys if part in k]
            assert len(matches) == 1, f"{exercise}: {part!r} should name one mutant, names {matches}"
            found[exercise][matches[0]] = phrase
    return found


def _by_key(mutants):
    return {m.key: m for m in mutants}


def test_operators_change_one_expression_inside_the_solution_only():
    mutants = _by_key(expression_mutants("loss", CELL))
    assert all("n = 3  # outside the solution: never mutated" in m.source for m in mutants.values())
    assert all('"""Doc."""' in m.source for m in mutants.values()), "the rest of the cell stays as written"
    line = " in `return total / (n - 1) + 2 * tf.reduce_sum(U, axis=1)[0]`"
    matmul = " in `logits = tf.matmul(U, V, transpose_b=True)`"
    expected = {
        "mean/sum: tf.reduce_sum -> tf.reduce_mean" + line,
        "axis: axis=1 -> axis=0" + line,
        "drop argument: tf.reduce_sum(U, axis=1) -> tf.reduce_sum(U)" + line,
        "transpose: tf.matmul(U, V, transpose_b=True) -> tf.matmul(U, V, transpose_b=False)" + matmul,
        "transpose: tf.matmul(U, V, transpose_b=True) -> tf.matmul(U, V, transpose_b=True, transpose_a=True)"
        + matmul,
        "swap arguments: tf.matmul(U, V, transpose_b=True) -> tf.matmul(V, U, transpose_b=True)" + matmul,
        "drop normalisation: total / (n - 1) -> total" + line,
        "drop term: total / (n - 1) + 2 * tf.reduce_sum(U, axis=1)[0] -> total / (n - 1)" + line,
        "arithmetic: n - 1 -> (n + 1)" + line,
        "off-by-one: 1 -> 2" + line,
        "return constant: return total / (n - 1) + 2 * tf.reduce_sum(U, axis=1)[0] -> return 0.0",
    }
    assert expected <= set(mutants), sorted(expected - set(mutants))
    naive = [m for m in mutants.values() if m.operator == "naive formula"]
    assert len(naive) == 1 and "tf.exp(logits) / tf.reduce_sum(tf.exp(logits)" in naive[0].mutated
    # precedence is kept: a swapped operator inside a product is parenthesised
    swapped = mutants[
        "arithmetic: 2 * tf.reduce_sum(U, axis=1)[0] -> (2 / tf.reduce_sum(U, axis=1)[0])" + line
    ]
    assert "+ (2 / tf.reduce_sum(U, axis=1)[0])" in swapped.source
    for m in mutants.values():
        compile(m.source, m.key, "exec")


def test_the_naive_formula_of_pytorchs_cross_entropy_is_exact_and_overflows():
    torch = pytest.importorskip("torch")
    cell = (
        "def loss(x, y):\n    ### BEGIN SOLUTION\n"
        '    return torch.nn.functional.cross_entropy(x, y, reduction="sum")\n    ### END SOLUTION\n'
    )
    (naive,) = [m for m in expression_mutants("loss", cell) if m.operator == "naive formula"]
    assert naive.mutated.startswith("(-torch.log((torch.exp(x)") and naive.mutated.endswith(".sum()")
    namespace = {"torch": torch}
    exec(naive.source, namespace)
    x, y = torch.tensor([[1.0, 2.0], [0.5, -1.0]]), torch.tensor([1, 0])
    exact = torch.nn.functional.cross_entropy(x, y, reduction="sum")
    assert torch.allclose(namespace["loss"](x, y), exact)
    assert not torch.isfinite(namespace["loss"](x * 100, y)), "exp() overflows past ~88 in float32"


MISTAKE_CELL = '''def pick(scores, ids, years, chosen, k, seed):
    """Doc."""
    ### BEGIN SOLUTION
    closest = np.maximum(chosen, scores)
    limit = max(1, int(k / 2))
    order = np.lexsort((ids, -scores))
    ranked = np.argsort(-scores, kind="stable")
    boost = np.where(np.isnan(years), 0.0, years)
    rng = np.random.default_rng(seed)
    return closest.max() + limit + order + ranked + boost + rng.random()
    ### END SOLUTION
'''


def test_requirement_mistakes_are_mutants():
    keys = {m.operator: set() for m in expression_mutants("pick", MISTAKE_CELL)}
    for m in expression_mutants("pick", MISTAKE_CELL):
        keys[m.operator].add(f"{m.original} -> {m.mutated}")
    assert {
        "np.maximum(chosen, scores) -> (chosen + scores)",
        "np.maximum(chosen, scores) -> np.minimum(chosen, scores)",
        "closest.max() -> closest.sum()",
        "closest.max() -> closest.mean()",
        "closest.max() -> closest.min()",
    } <= keys["aggregation"]
    assert keys["clamp dropped"] == {"max(1, int(k / 2)) -> int(k / 2)"}
    assert keys["tie order"] == {
        "np.lexsort((ids, -scores)) -> np.lexsort((-ids, -scores))",
        "np.argsort(-scores, kind=\"stable\") -> np.argsort(scores, kind='stable')[::-1]",
    }
    assert keys["NaN handling dropped"] == {"np.where(np.isnan(years), 0.0, years) -> years"}
    assert keys["seed dropped"] == {"np.random.default_rng(seed) -> np.random.default_rng()"}


LOOP_CELL = """def fit(model, optimizer, batch, num_steps):
    ### BEGIN SOLUTION
    losses = []
    for _ in range(num_steps):
        optimizer.zero_grad()
        loss = model(batch).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return torch.stack(losses)
    ### END SOLUTION
"""


def test_training_loop_mistakes_are_mutants():
    found = {(m.operator, f"{m.original} -> {m.mutated}") for m in expression_mutants("fit", LOOP_CELL)}
    assert {
        ("forgot zero_grad", "optimizer.zero_grad() -> pass"),
        ("forgot backward", "loss.backward() -> pass"),
        ("forgot step", "optimizer.step() -> pass"),
        ("host sync", "loss.detach() -> loss.item()"),
    } <= found


def test_a_mutant_killed_by_a_visible_check_is_told_apart_from_one_killed_only_by_hidden_checks():
    from movierec_instructor.strength.runner import CellRun, killed_visibly

    assert killed_visibly(CellRun(ok=True, score=1.0, stdout="✗ ties in id order (0 of 1): got [2, 0]\n"), "")
    assert not killed_visibly(
        CellRun(ok=True, score=2.0, stdout="✓ shape (1 of 1)\n✗ a hidden check: x (0 of 1)\n"), ""
    )
    assert not killed_visibly(
        CellRun(
            ok=False, stdout="✓ shape (1 of 1)\n✗ a hidden check: x (0 of 1)\n", error="AssertionError: x"
        ),
        "",
    ), "the runner's fail-fast after a hidden ✗"
    assert killed_visibly(CellRun(ok=False, error="NameError: name 'f' is not defined"), "")
    assert killed_visibly(
        CellRun(ok=True, score=2.0, stdout="✗ a hidden check: x (0 of 1)\n"), "NameError: f"
    )
    assert killed_visibly(CellRun(ok=False, stderr="RuntimeWarning: divide by zero"), "")


def test_a_cell_without_markers_is_refused():
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        expression_mutants("x", "def f():\n    return 1\n")


def test_library_shortcuts_call_the_declared_answers_with_the_students_parameters():
    import_library()

    cell = (
        "def user_embeddings(network, bag_weights):\n    ### BEGIN SOLUTION\n    return 1\n"
        "    ### END SOLUTION\n"
    )
    answers = library_answers("user_embeddings")
    (shortcut,) = library_shortcut_mutants("user_embeddings", cell, answers_of_track(answers, "tensorflow"))
    assert "    return network(bag_weights=bag_weights)\n" in shortcut.source
    (shortcut,) = library_shortcut_mutants("user_embeddings", cell, answers_of_track(answers, "pytorch"))
    assert "    return network.forward(bag_weights=bag_weights)\n" in shortcut.source
    cell = "def gravity(U, V):\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    shortcuts = library_shortcut_mutants("gravity", cell, library_answers("gravity"))
    # one per track's answer (TensorFlow's losses, PyTorch's torch_losses)
    assert sorted(m.mutated.split(" import ")[0] for m in shortcuts) == [
        "from movierec_helpers.models.tensorflow.losses",
        "from movierec_helpers.models.torch.losses",
    ]
    assert all("return library_answer(U, V)" in m.source for m in shortcuts), (
        "positional when the names differ"
    )


def test_every_listed_equivalent_mutant_is_still_generated():
    import_library()
    equivalents = load_equivalents(ROOT)
    assert equivalents, "solutions/equivalent_mutants.toml lists the reviewed equivalent mutants"
    generated = set()
    for name in course.assignments(ROOT):
        for cell in nbformat.read(course.notebook_path(ROOT, name), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution"):
                exercise = meta["grade_id"]
                generated |= {
                    (exercise, m.key) for m in all_mutants(exercise, cell.source, library_answers(exercise))
                }
    assert set(equivalents) <= generated, sorted(set(equivalents) - generated)
    assert all(len(reason) > 20 for reason in equivalents.values()), "each entry says why"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(KNOWN))
def test_hidden_tests_kill_the_known_mutants_and_name_common_mistakes(assignment):
    mistakes = _mistake_keys(assignment)
    assert all(len(m) >= 3 for m in mistakes.values()) and set(mistakes) >= set(KNOWN[assignment])
    keys = {
        exercise: set(KNOWN[assignment].get(exercise, ())) | set(mistakes.get(exercise, ()))
        for exercise in set(KNOWN[assignment]) | set(mistakes)
    }
    strengths = measure_assignment(ROOT, assignment, exercises=keys, keys=keys)
    assert {s.exercise for s in strengths} == set(keys)
    for strength in strengths:
        assert len(strength.results) == len(keys[strength.exercise])
        survivors = [r.mutant.key for r in strength.results if not r.killed]
        assert not survivors, f"{strength.exercise}: the tests no longer kill {survivors}"
        for result in strength.results:
            phrase = mistakes[strength.exercise].get(result.mutant.key)
            if phrase is not None:
                assert result.named, (
                    f"{strength.exercise}: no ✗ line names the failure of {result.mutant.key}"
                )
                assert phrase in result.feedback, (
                    f"{strength.exercise}: {result.mutant.key}\n  printed: {result.feedback}\n  expected: "
                    f"{phrase}"
                )
                assert result.visible, (
                    f"{strength.exercise}: {result.mutant.key} is killed only by hidden "
                    "checks: make check would say ready to hand in"
                )


@pytest.mark.slow
def test_unknown_mutant_key_is_reported():
    with pytest.raises(KeyError, match="no mutant"):
        measure_assignment(
            ROOT,
            "01_exploring_movielens",
            exercises=["most_rated"],
            keys={"most_rated": {"arithmetic: a + b -> (a - b)"}},
        )


@pytest.mark.slow
def test_cli_reports_every_exercise_of_an_assignment(tmp_path, capsys):
    out = tmp_path / "strength"
    assert main(["--course", str(ROOT), "test-strength", "01_exploring_movielens", "--out", str(out)]) == 0
    rows = json.loads((out / "01_exploring_movielens.json").read_text())
    assert [r["exercise"] for r in rows] == ["most_rated", "best_rated"]
    for row in rows:
        assert row["killed"] + row["survived"] + row["equivalent"] == row["mutants"] > 0
        assert row["score"] >= 0.9
    html = (out / "01_exploring_movielens.html").read_text()
    assert "<table>" in html and "Why equivalent" in html
    assert "| 01_exploring_movielens | `most_rated` |" in (out / "README-table.md").read_text()
    assert "most_rated" in capsys.readouterr().out


def test_readme_table_covers_every_graded_exercise_at_90_percent_or_more():
    text = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| \d\d_\w+ \| `(\w+)` \|.*\| (\d+)% \|$", text, flags=re.MULTILINE))
    graded = set()
    for name in course.assignments(ROOT):
        for cell in nbformat.read(course.notebook_path(ROOT, name), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
                graded.add(meta["grade_id"])
    assert set(rows) == graded, "regenerate the README table with make test-strength"
    assert all(int(score) >= 90 for score in rows.values()), rows
    assert re.search(r"Measured \d{4}-\d\d-\d\d with `make test-strength`", text)


def test_readme_table_has_no_mutant_killed_only_by_hidden_checks_and_no_survivor():
    """make check says "ready" only when grading agrees: every killed mutant is killed visibly."""
    text = (ROOT / "README.md").read_text()
    rows = re.findall(
        r"^\| \d\d_\w+ \| `(\w+)` \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", text, flags=re.MULTILINE
    )
    assert len(rows) >= 28, "regenerate the README table with make test-strength"
    for exercise, _mutants, _killed, _visible, hidden_only, survived in rows:
        assert (int(hidden_only), int(survived)) == (0, 0), exercise


def test_feedback_names_the_requirement_through_a_visible_or_a_named_hidden_check():
    from movierec_instructor.strength.runner import CellRun, feedback_lines, names_requirement

    visible = CellRun(
        ok=True, score=0.0, stdout="✓ shape (1 of 1)\n✗ the MEAN loss, a scalar (0 of 1): return the MEAN\n"
    )
    named_hidden = CellRun(
        ok=True, score=1.0, stdout="✓ shape (1 of 1)\n✗ a hidden check: ties by movie_id (0 of 1)\n"
    )
    bare_hidden = CellRun(ok=True, score=1.0, stdout="✓ shape (1 of 1)\n✗ a hidden check (0 of 1)\n")
    assert names_requirement(visible) and names_requirement(named_hidden)
    assert not names_requirement(bare_hidden)
    assert not names_requirement(CellRun(ok=False, error="NameError: x"))
    assert feedback_lines(visible) == "✗ the MEAN loss, a scalar (0 of 1): return the MEAN"
    assert feedback_lines(CellRun(ok=False, error="Traceback\nNameError: x")) == "Traceback\nNameError: x"
