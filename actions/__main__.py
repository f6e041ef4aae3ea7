"""`python -m actions` starts the action server."""
from actions.server import main

main()
