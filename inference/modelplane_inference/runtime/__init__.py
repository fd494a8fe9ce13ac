"""The runtime room: the model repository reader, the ONNX Runtime runner with its batching,
and the backends that stages call (local runner or a Triton server over gRPC)."""
