"""From files to vectors: safe decoding (imaging, formats) and the embedding model."""
