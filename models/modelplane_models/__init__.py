"""modelplane models: architectures, synthetic data, training, ONNX export, Triton repository."""
