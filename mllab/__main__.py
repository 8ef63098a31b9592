"""Allows `python -m mllab`."""

from mllab.cli import main

raise SystemExit(main())
