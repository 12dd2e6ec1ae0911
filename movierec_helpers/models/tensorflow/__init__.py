"""The TensorFlow track's models (Keras 3 on TensorFlow); the PyTorch track has the same names in
``models.torch``.

- :mod:`~movierec_helpers.models.tensorflow.cfmodel`: the training loop's compiled TensorFlow steps;
- :mod:`~movierec_helpers.models.tensorflow.losses`: the losses and regularizers of the exercises;
- :mod:`~movierec_helpers.models.tensorflow.mf`: matrix factorization models (notebooks 02-04);
- :mod:`~movierec_helpers.models.tensorflow.softmax`: the softmax model (notebook 05);
- :mod:`~movierec_helpers.models.tensorflow.wals`: weighted alternating least squares (notebook 04);
- :mod:`~movierec_helpers.models.tensorflow.ranker`: the scoring model with a DCN cross (notebook 08);
- :mod:`~movierec_helpers.models.tensorflow.metrics`: precision, recall and NDCG at k as TensorFlow ops;
- :mod:`~movierec_helpers.models.tensorflow.progress`: a Keras callback with a progress bar over epochs.
"""
