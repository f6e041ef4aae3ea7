"""`python -m introductions …`: the staff command line of brokered introductions and hand-offs."""
from introductions.cli import main

raise SystemExit(main())
