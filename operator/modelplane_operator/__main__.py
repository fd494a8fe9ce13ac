"""``python -m modelplane_operator`` runs the operator."""

from modelplane_operator.cli import main

main()
