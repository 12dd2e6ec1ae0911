"""Models and their training loop: CFModel (the loop), matrix factorization, softmax, WALS, ranking.

- :mod:`~movierec_helpers.models.training_loop`: the loop both tracks share (history, logging, charts);
- :mod:`~movierec_helpers.models.cfmodel`: its compiled TensorFlow steps;
- :mod:`~movierec_helpers.models.losses`: the TensorFlow losses and regularizers of the exercises;
- :mod:`~movierec_helpers.models.mf`: matrix factorization models (notebooks 02-04);
- :mod:`~movierec_helpers.models.mf_objectives`: the MF losses and metric groups, for either track;
- :mod:`~movierec_helpers.models.softmax`: the softmax model (notebook 05);
- :mod:`~movierec_helpers.models.wals`: weighted alternating least squares (notebook 04);
- :mod:`~movierec_helpers.models.ranking`: the scoring model on features with a DCN cross (notebook 08);
- :mod:`~movierec_helpers.models.progress`: progress bars in the lab, none while grading;
- PyTorch track: :mod:`~movierec_helpers.models.torch_cfmodel` (the same loop over PyTorch
  tensors), :mod:`~movierec_helpers.models.torch_losses`, :mod:`~movierec_helpers.models.torch_mf`.
"""
