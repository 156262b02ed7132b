"""Retrieval: the search pipeline (projection, re-ranking, query expansion) and its
evaluation (mAP, precision@k, recall@k, precision-recall curves)."""
