"""The truth and what derives from it: the catalogue (SQLite, every SQL statement) and the HNSW index."""
