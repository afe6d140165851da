"""`pygestor ui`: the web UI (the `ui` extra), served over the same Catalog as every command."""

from __future__ import annotations

import click

from .output import catalog_from


@click.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--token",
    default=None,
    help="Require this token (default: a random one when "
    "--host is not loopback; none on loopback).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@click.pass_context
def ui(ctx: click.Context, host: str, port: int, token: str | None, open_browser: bool) -> None:
    """Browse, preview, download and curate the catalog in a browser."""
    from ..ui.serve import check_installed, plan, serve

    check_installed()
    chosen = plan(host, port, token)
    click.echo(f"pygestor UI on {chosen.url}  (Ctrl-C stops it)", err=True)
    serve(chosen, catalog_from(ctx), open_browser=open_browser)
