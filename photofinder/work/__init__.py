"""The pipeline: scanning folders, decoding, batched embedding, watching."""
