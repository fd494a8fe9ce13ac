"""``python -m modelplane_cli``: the ``modelplane`` command."""

import sys

from modelplane_cli import main

sys.exit(main())
