"""Looking at what a model learned: scores, recommendations, ranking metrics, 2-D maps.

- :mod:`~movierec_helpers.evaluation.scores`: dot and cosine similarity scores;
- :mod:`~movierec_helpers.evaluation.recommend`: neighbours and recommendations as tables;
- :mod:`~movierec_helpers.evaluation.ranking`: precision/recall/NDCG and the leak-free protocol;
- :mod:`~movierec_helpers.evaluation.protocol`: leave-last-out and random leave-one-out splits, leakage;
- :mod:`~movierec_helpers.evaluation.sampled`: full and sampled leave-one-out ranks, HR@k and NDCG@k;
- :mod:`~movierec_helpers.evaluation.bootstrap`: bootstrap intervals over users, paired differences;
- :mod:`~movierec_helpers.evaluation.projection`: t-SNE maps of embeddings;
- :mod:`~movierec_helpers.evaluation.norms`: embedding norms by popularity band;
- :mod:`~movierec_helpers.evaluation.beyond_accuracy`: intra-list diversity, coverage, novelty.
"""
