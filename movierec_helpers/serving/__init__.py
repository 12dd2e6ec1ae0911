"""Serving recommendations: retrieval of the best unseen items, exact and approximate; re-ranking.

- :mod:`~movierec_helpers.serving.retrieval`: exact top-k retrieval with seen items masked,
  recall of one list against another, choosing index parameters;
- :mod:`~movierec_helpers.serving.ann`: an approximate nearest-neighbour index (FAISS HNSW);
- :mod:`~movierec_helpers.serving.catalogue`: synthetic catalogues larger than MovieLens;
- :mod:`~movierec_helpers.serving.candidates`: candidate pools from several generators;
- :mod:`~movierec_helpers.serving.rerank`: MMR, freshness boosts, exposure caps.

It is its own room (not ``evaluation``): these functions answer queries, as a service would,
and notebooks 07-09 build on them.
"""
