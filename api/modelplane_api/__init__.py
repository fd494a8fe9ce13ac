"""The contract the three towers share: CRDs and their defaults, typed specs, config.pbtxt, images.

``operator/``, ``inference/`` and ``models/`` never import each other; what they must agree on
lives here once, so a reader knows which copy is the truth (docs/architecture.md):

- :mod:`modelplane_api.crds`: the CRD files (the one source of the spec's shape and defaults)
  and structural defaulting as the API server applies it;
- :mod:`modelplane_api.spec`: typed, defaulted ModelDeployment specs (operator and local server);
- :mod:`modelplane_api.triton`: tensors, batching and ``config.pbtxt`` through Triton's own
  ``ModelConfig`` protobuf (never string formatting);
- :mod:`modelplane_api.images`: the image contract, decode -> RGB -> resize -> [0, 1] (numpy and
  Pillow; the operator never imports it).
- :mod:`modelplane_api.logs`: one structured log format (the same JSON keys) for every process.

Nothing here needs torch, kopf or kserve.
"""
