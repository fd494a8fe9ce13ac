"""Validating admission: reject specs the CRD schema cannot express before they are stored.

Off unless the operator runs with ``--admission-port`` (the chart turns it on once TLS is set up,
and renders the ValidatingWebhookConfiguration pointing at these paths). The checks are the ones
the reconciler applies, so a spec rejected here would have ended as ``Ready=False`` anyway;
admission only moves the error to ``kubectl apply``. A pipeline whose steps do not exist *yet*
is admitted: creation order is free and the pipeline heals when its steps appear.
"""

from __future__ import annotations

from typing import Any

import kopf

from modelplane_operator import GROUP, VERSION
from modelplane_operator.config import Config
from modelplane_operator.render_gpu import check_gpu_request
from modelplane_operator.render_pipeline import parse_pipeline
from modelplane_operator.spec import SpecError, check_model_image, parse_deployment

# Webhook paths (kopf serves each validating handler under its id).
DEPLOYMENT_WEBHOOK = "validate-modeldeployment"
PIPELINE_WEBHOOK = "validate-modelpipeline"


def _reject(err: SpecError) -> kopf.AdmissionError:
    return kopf.AdmissionError(f"{err.reason}: {err.message}", code=422)


def validate_deployment(spec: kopf.Spec, **_: Any) -> None:
    """TensorRT without a GPU, formats a runtime cannot serve, bad shapes, file:// in a cluster,
    GPU slices this cluster's MIG strategy does not expose."""
    try:
        parsed, config = parse_deployment(dict(spec)), Config.from_env()
        check_model_image(parsed, config)
        check_gpu_request(parsed, config)
    except SpecError as err:
        raise _reject(err) from err


def validate_pipeline(spec: kopf.Spec, **_: Any) -> None:
    """Cycles, unknown nodes, a missing root, Splitter weights that do not sum to 100."""
    try:
        parse_pipeline(dict(spec))
    except SpecError as err:
        raise _reject(err) from err


def register(registry: kopf.OperatorRegistry) -> None:
    """Add the validating handlers to ``registry``; only when a webhook server is configured,
    since kopf refuses to run admission handlers without one."""
    kopf.on.validate(GROUP, VERSION, "modeldeployments", id=DEPLOYMENT_WEBHOOK, registry=registry)(
        validate_deployment
    )
    kopf.on.validate(GROUP, VERSION, "modelpipelines", id=PIPELINE_WEBHOOK, registry=registry)(
        validate_pipeline
    )


def webhook_server(
    port: int, certfile: str | None, keyfile: str | None, insecure: bool
) -> kopf.WebhookServer:
    """kopf's webhook server on all interfaces: TLS from files (cert-manager), or plain HTTP."""
    if not insecure and not (certfile and keyfile):
        raise ValueError("--admission-port needs --admission-cert and --admission-key")
    return kopf.WebhookServer(
        addr="0.0.0.0", port=port, certfile=certfile, pkeyfile=keyfile, insecure=insecure
    )
