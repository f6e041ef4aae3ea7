"""Command line of the knowledge package: `python -m knowledge ingest|search|sdg ...`."""
from knowledge.cli import main

raise SystemExit(main())
