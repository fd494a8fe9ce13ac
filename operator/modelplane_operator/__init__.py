"""modelplane operator: reconciles ModelDeployment and ModelPipeline into KServe and Triton objects.

The operator never imports inference or model code; what it shares with them is the contract
package, ``modelplane_api`` (the CRDs in ``manifests/crds``, the typed spec, config.pbtxt).
"""

from modelplane_api.crds import GROUP, VERSION
from modelplane_api.crds import GROUP_VERSION as API_VERSION

__all__ = ["API_VERSION", "GROUP", "VERSION"]
