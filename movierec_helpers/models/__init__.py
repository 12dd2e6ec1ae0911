"""Models and their training loop: CFModel (the loop), matrix factorization, softmax, WALS.

- :mod:`~movierec_helpers.models.cfmodel`: the compiled TF2 training loop every model uses;
- :mod:`~movierec_helpers.models.losses`: the losses and regularizers of the exercises;
- :mod:`~movierec_helpers.models.mf`: matrix factorization models (notebooks 02-04);
- :mod:`~movierec_helpers.models.softmax`: the softmax model (notebook 05);
- :mod:`~movierec_helpers.models.wals`: weighted alternating least squares (notebook 04).
"""
