"""modelplane models: torch architectures, training, ONNX export, TensorRT build, Triton repository."""
