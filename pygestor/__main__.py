"""`python -m pygestor ...` is the `pygestor` command."""

from .cli.main import main

if __name__ == "__main__":
    main()
