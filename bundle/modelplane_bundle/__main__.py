"""``python -m modelplane_bundle``: the same as ``modelplane-bundle``."""

import sys

from modelplane_bundle.cli import main

sys.exit(main())
