"""The course's graded exercises: which function a student writes for which exercise.

An exercise is named by the nbgrader ``grade_id`` of its solution cell; library answers
declare the exercises they answer (:func:`~movierec_helpers.exercises.reference.reference_solution`).
``tests/course`` checks this table against the solution notebooks.
"""

from __future__ import annotations

#: graded function a student writes -> the exercise (``grade_id``) it answers
EXERCISE_OF_FUNCTION: dict[str, str] = {
    "most_rated": "most_rated",
    "best_rated": "best_rated",
    "build_rating_sparse_tensor": "sparse_tensor",
    "sparse_mean_square_error": "mse_dense",
    "sparse_mean_square_error_gather": "mse_gather",
    "build_model": "build_model",
    "fit": "fit",
    "compute_scores": "compute_scores",
    "gravity": "gravity",
    "build_regularized_model": "regularized_model",
    "softmax_loss": "softmax_loss",
    "user_embeddings": "user_embeddings",
    "build_biased_model": "biased_model",
    "build_deep_model": "deep_model",
    "bias_ranking": "bias_ranking",
    "top_k_unseen": "top_k_unseen",
    "fastest_meeting_recall": "fastest_meeting_recall",
    "cross_features": "cross_features",
    "ndcg_at_k": "ndcg_at_k",
    "mmr": "mmr",
    "freshness_boost": "freshness_boost",
    "cap_exposure": "cap_exposure",
    "weighted_solve": "weighted_solve",
    "bpr_loss_grad": "bpr_loss_grad",
    "claim": "claim",
    "leave_last_out": "leave_last_out",
    "sampled_hits": "sampled_hits",
    "bootstrap_interval": "bootstrap_interval",
}


def exercise_of(function_name: str) -> str:
    """The exercise a graded function answers (its own name for functions outside the course)."""
    return EXERCISE_OF_FUNCTION.get(function_name, function_name)
