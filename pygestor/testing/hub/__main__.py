"""`python -m pygestor.testing.hub`: the test Hub's command line (`cli.main`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
