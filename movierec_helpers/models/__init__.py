"""Models and their training loop, one folder per track (:mod:`movierec_helpers.tracks` says which).

- :mod:`~movierec_helpers.models.training_loop`: the loop both tracks share (history, logging, charts);
- :mod:`~movierec_helpers.models.mf_objectives`: the MF losses and metric groups, for either track;
- :mod:`~movierec_helpers.models.progress`: progress bars in the lab, none while grading;
- :mod:`~movierec_helpers.models.user_bags`: the softmax model's user features as bags of ids (both tracks);
- :mod:`~movierec_helpers.models.neighbors`: item-KNN, PureSVD and EASE in NumPy (both tracks);
- :mod:`~movierec_helpers.models.ranking_features`: the scoring model's inputs per candidate (both tracks);
- :mod:`~movierec_helpers.models.als`: notebook 04's regularized MF fitted by alternating least squares
  in NumPy (both tracks; notebooks 07 and 09);
- :mod:`~movierec_helpers.models.tensorflow`: the TensorFlow track (Keras 3): cfmodel, losses, mf,
  softmax, wals, ranker, metrics, progress;
- :mod:`~movierec_helpers.models.torch`: the PyTorch track: cfmodel, losses, mf, ranker;
- :mod:`~movierec_helpers.models.implicit`: implicit feedback in NumPy/SciPy, for both tracks:
  interactions, als, bpr, baselines.
"""
