"""modelplane operator: reconciles ModelDeployment and ModelPipeline into KServe and Triton objects.

The operator never imports inference or model code; what it shares with them is the manifest
schema in ``manifests/crds``.
"""

GROUP = "modelplane.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
