"""The PyTorch track's models; the same names as ``models.tensorflow``, written for PyTorch.

- :mod:`~movierec_helpers.models.torch.cfmodel`: the training loop over PyTorch tensors;
- :mod:`~movierec_helpers.models.torch.losses`: the losses and regularizers of the exercises;
- :mod:`~movierec_helpers.models.torch.device`: the one device rule of the track (`default_device`);
- :mod:`~movierec_helpers.models.torch.embeddings`: the embedding models of notebook 06 (dot product,
  biases, the deep model) and the minibatch loop that trains them (`fit_epochs`);
- :mod:`~movierec_helpers.models.torch.mf`: matrix factorization models (notebooks 02-04): the
  `MatrixFactorization` module and the models built on it;
- :mod:`~movierec_helpers.models.torch.softmax`: the softmax model (notebook 05): the `SoftmaxNetwork`
  module of embedding bags and hidden layers, and the model built on it;
- :mod:`~movierec_helpers.models.torch.metrics`: precision, recall and NDCG at k as PyTorch operations;
- :mod:`~movierec_helpers.models.torch.ranker`: the scoring model with a DCN cross (notebook 08),
  `Ranker` (an `nn.Module`) and its `FeatureCross` layer;
- :mod:`~movierec_helpers.models.torch.training`: the training loop a PyTorch user writes (`fit`).
"""
