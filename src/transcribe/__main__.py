"""`python -m transcribe` is the `transcribe` command."""

from transcribe.cli import main

raise SystemExit(main())
