"""Air-gapped delivery of modelplane: ``modelplane bundle`` on a connected host, ``install.sh``
on the site.

Packaging, not serving: this package imports none of operator, inference or models. A bundle
carries every image as OCI content pinned by digest, the model repository as an OCI image
(KServe modelcar layout) and as a tarball for PVC sites, the packaged chart and its CRDs, an
SBOM, and a signed ``SHA256SUMS``; ``install.sh`` (a real file next to this one, checked by
shellcheck) needs nothing outside the bundle and the site.
"""


class BundleError(Exception):
    """A bundle cannot be written; the message says what to change."""
