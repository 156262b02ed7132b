"""The embedding model: preprocessing contract, ONNX runtime session, build-time export."""
