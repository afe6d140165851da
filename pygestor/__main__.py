"""`python -m pygestor ...` is the `pygestor` command."""

from .cli.app import main

if __name__ == "__main__":
    main()
