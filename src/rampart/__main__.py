"""``python -m rampart`` runs the command line."""

from rampart.cli.main import run

run()
