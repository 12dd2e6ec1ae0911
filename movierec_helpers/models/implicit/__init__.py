"""Models of implicit feedback (who interacted with what), NumPy and SciPy only: both tracks use them.

- :mod:`~movierec_helpers.models.implicit.interactions`: ratings as a sparse user x item matrix;
- :mod:`~movierec_helpers.models.implicit.als`: weighted ALS with confidence ``1 + alpha * r``
  (Hu, Koren and Volinsky 2008);
- :mod:`~movierec_helpers.models.implicit.bpr`: Bayesian personalised ranking on sampled
  (user, seen, unseen) triples (Rendle et al. 2009), vectorised mini-batches;
- :mod:`~movierec_helpers.models.implicit.baselines`: popularity (optionally over a recent window)
  and EASE (Steck 2019).

Every model's ``fit_*`` returns what scores users: ALS and BPR give ``(user_factors,
item_factors)`` (scores are ``user_factors @ item_factors.T``), EASE an item x item weight
matrix (scores are ``R[users] @ B``), popularity one score per item.
"""
