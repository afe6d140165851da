"""The JSON API under /api: every route calls `views` or the Catalog and returns JSON.

(Filled in by the API work; this placeholder answers only /api/health.)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from .._version import __version__

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/health")
def health() -> dict[str, Any]:
    """The server is up: its version."""
    return {"ok": True, "version": __version__}
