"""``python -m modelplane_models`` runs the CLI."""

import sys

from .cli import main

sys.exit(main())
