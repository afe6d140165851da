#!/usr/bin/env python3
"""Run pygestor from a checkout: `python cli.py ...` is `pygestor ...` (the original flags too)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pygestor.cli.app import main

if __name__ == "__main__":
    main()
