"""What keeps the UI server from being used by anyone but its user.

- **Host check** (DNS rebinding): bound to loopback, only `localhost`, `127.0.0.1` and `[::1]`
  Host headers are served, so a page on another site cannot reach the server through a name
  it resolves to 127.0.0.1.
- **Token**: when one is set (always when bound beyond loopback), every request carries it as
  `Authorization: Bearer TOKEN`, or the `pygestor_token` cookie that opening `/?token=TOKEN` once
  sets (then redirected to the same URL without it, so the token is not left in the history).
- **Cross-site requests**: a state-changing request (POST, PUT, PATCH, DELETE) must come from the
  UI's own origin: it must carry the `X-Pygestor: 1` header (a cross-site form or `fetch` cannot
  set one without a CORS preflight, which this server never grants), and its `Origin` and
  `Sec-Fetch-Site` headers, when the browser sends them, must say same origin.
- **Headers**: a Content-Security-Policy that allows nothing from another origin (every asset is
  served by the package), no framing, no sniffing, no referrer.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from .hosts import host_name, is_loopback

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "x-pygestor"
TOKEN_COOKIE = "pygestor_token"
CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self' data:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Guard:
    """The server's security settings: its token (None: none needed) and whether it is bound
    to loopback only (then the Host header must name loopback)."""

    token: str | None = None
    loopback: bool = True

    def refuse(self, request: Request) -> Response | None:
        """The response that refuses `request`, or None to let it through."""
        host = host_name(request.headers.get("host", ""))
        if self.loopback and host and not is_loopback(host):
            return _refusal(request, 421, f"this server answers only on loopback, not {host!r}")
        if self.token is not None and not self._authorized(request):
            given = request.query_params.get("token")
            if given is not None and _same(given, self.token):
                return self._remember(request, given)
            return _refusal(
                request,
                401,
                "a token is required: open the URL 'pygestor ui' printed (it ends in ?token=...) "
                "or send 'Authorization: Bearer TOKEN'",
            )
        if request.method in UNSAFE_METHODS:
            why = cross_site(request)
            if why:
                return _refusal(request, 403, f"cross-site request refused: {why}")
        return None

    def _authorized(self, request: Request) -> bool:
        assert self.token is not None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return _same(header[7:].strip(), self.token)
        cookie = request.cookies.get(TOKEN_COOKIE)
        return cookie is not None and _same(cookie, self.token)

    def _remember(self, request: Request, token: str) -> Response:
        query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
        target = request.url.path + (f"?{query}" if query else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response


def _same(given: str, token: str) -> bool:
    """Constant-time equality; as bytes, since `compare_digest` refuses non-ASCII text."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode("utf-8"))


def cross_site(request: Request) -> str:
    """Why a state-changing request is not from the UI's own page ('' when it is)."""
    if request.headers.get(CSRF_HEADER) != "1":
        return f"the {CSRF_HEADER.title()}: 1 header is missing (the UI's pages send it)"
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"Sec-Fetch-Site is {fetch_site!r}"
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        own = request.headers.get("host", "")
        if urlsplit(origin).netloc != own:
            return f"Origin {origin!r} is not this server ({own!r})"
    elif origin == "null":
        return "Origin is 'null'"
    return ""


def _refusal(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    ):
        return JSONResponse({"error": message, "type": "Refused"}, status_code=status)
    return PlainTextResponse(message, status_code=status)


def middleware(
    guard: Guard,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """An HTTP middleware applying `guard` and the security headers to every response."""

    async def guarded(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = guard.refuse(request) or await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    return guarded
