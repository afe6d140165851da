"""`python -m pygestor ...` is the `pygestor` command."""

from .cli import main

if __name__ == "__main__":
    main()
