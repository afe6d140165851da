"""One file's bytes over HTTP: a ranged GET, redirects followed by hand, transient failures told
apart from final ones. What the Hub source downloads with (object stores bring their own reads).

- The request goes through `huggingface_hub`'s shared `httpx2` session (proxies and CA bundles
  from the environment, connection reuse).
- Redirects are followed by hand so that `Authorization` is dropped the moment the origin
  changes (the LFS storage); the redirect body is drained so the connection is reused.
- 5xx, 408, 429 (`Retry-After`, seconds or an HTTP date, honoured and capped), connection
  problems and bodies that break off raise `Transient`: the caller retries and resumes. A
  connection that cannot be made at all (refused, unknown host) is retried twice, quickly, and
  names `HF_ENDPOINT`.
  Anything else is final: the client's typed error, translated once by the source.
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from ..errors import AccessDenied, MissingUpstream, PygestorError, SourceError
from .base import RangeIgnored, Transient

MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 120.0
UNREACHABLE_DELAY = 0.3  # seconds between the few retries of a refused connection

Translate = Callable[[Exception], "PygestorError | None"]


@dataclass
class Body:
    """A response body being received: `start` is the byte it begins at (0 when the server
    ignored the range asked for); `span` is (first byte, end) of a 206 answer's Content-Range,
    None for a 200 (the whole file)."""

    start: int
    response: Any
    span: tuple[int, int] | None = None

    def __iter__(self) -> Iterator[bytes]:
        """The bytes as they arrive (no re-chunking buffer, so a broken transfer loses nothing
        that reached the process); raises Transient naming the break."""
        import httpx2

        try:
            yield from self.response.iter_raw()
        except httpx2.HTTPError as exc:
            raise Transient(exc.__class__.__name__) from None


@contextlib.contextmanager
def get(
    url: str,
    headers: dict[str, str],
    *,
    path: str,
    commit: str | None,
    offset: int = 0,
    length: int | None = None,
    translate: Translate,
) -> Iterator[Body]:
    """GET `url` from byte `offset` (only `length` bytes of it when given: a bounded range, so
    a server never sends more than a preview asked for); yields the Body. `path`/`commit` name
    the file in errors."""
    if length is not None:
        headers = {**headers, "Range": f"bytes={offset}-{offset + max(length, 1) - 1}"}
    elif offset:
        headers = {**headers, "Range": f"bytes={offset}-"}
    with _open(url, headers, path, commit, translate) as response:
        start, span = 0, None
        if (offset or length is not None) and response.status_code == 206:
            span = _content_range(response.headers.get("content-range"))
            if span is None:
                raise RangeIgnored(
                    "the server answered a range request with 206 but no valid Content-Range"
                )
            start = span[0]
            if start != offset:
                raise Transient(f"the server resumed at byte {start}, not {offset}")
        yield Body(start, response, span)


@contextlib.contextmanager
def _open(
    url: str, headers: dict[str, str], path: str, commit: str | None, translate: Translate
) -> Iterator[Any]:
    import httpx2
    from huggingface_hub.utils import get_session

    client = get_session()
    origin = _origin(url)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            with client.stream(
                "GET",
                url,
                headers=headers,
                follow_redirects=False,
                timeout=httpx2.Timeout(30.0, read=60.0),
            ) as response:
                if response.is_redirect:
                    response.read()  # drain the (tiny) body so the connection is reused
                    url = urljoin(url, response.headers["location"])
                    if _origin(url) != origin:
                        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
                    continue
                _check_status(response, path, commit, translate)
                yield response
                return
        except httpx2.ConnectError as exc:  # refused, or no such host: not worth a long wait
            raise _unreachable(url, origin, exc) from None
        except httpx2.TransportError as exc:
            raise Transient(
                f"connection problem: {exc.__class__.__name__}: {exc}".rstrip(": ")
            ) from None
    raise SourceError(f"more than {MAX_REDIRECTS} redirects for {path}")


def _unreachable(url: str, first: tuple[str, str], exc: Exception) -> Transient:
    """A connection that could not be made (refused, unknown host): a couple of quick retries,
    then the download gives up, naming HF_ENDPOINT when that is where it was going."""
    scheme, host = _origin(url)
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if "Connection refused" in reason:
        reason = "connection refused"
    hint = "check the network or HF_ENDPOINT"
    if (scheme, host) != first:
        hint = f"the file storage {first[0]}://{first[1]} redirected to; check the network"
    return Transient(
        f"cannot reach {scheme}://{host} ({reason}); {hint}", UNREACHABLE_DELAY, retries=2
    )


def _check_status(response: Any, path: str, commit: str | None, translate: Translate) -> None:
    status = response.status_code
    if status in (200, 206):
        return
    if status == 429:
        raise Transient(
            "the server is rate limiting (429)", _retry_after(response.headers.get("retry-after"))
        )
    if status >= 500 or status == 408:
        raise Transient(f"the server answered {status}")
    response.read()
    raise _error(response, path, commit, translate)


def _error(response: Any, path: str, commit: str | None, translate: Translate) -> PygestorError:
    from huggingface_hub.utils import hf_raise_for_status

    try:
        hf_raise_for_status(response)
    except Exception as exc:  # noqa: BLE001 (the client raises its typed errors: gated, not found, ...)
        translated = translate(exc)
        if translated is not None:
            if response.status_code == 404 and not isinstance(translated, AccessDenied):
                return MissingUpstream(path, commit)
            return translated
    return SourceError(f"the server answered {response.status_code} for {path}")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        pass
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value).timestamp()
        return min(max(when - time.time(), 0.0), MAX_RETRY_AFTER)
    return None


def _content_range(value: str | None) -> tuple[int, int] | None:
    """(START, END + 1) of `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`), None when
    it is missing or malformed."""
    if not value or not value.startswith("bytes "):
        return None
    first, _, rest = value[len("bytes ") :].partition("-")
    last, _, total = rest.partition("/")
    if not (first.isdigit() and last.isdigit() and (total == "*" or total.isdigit())):
        return None
    if int(last) < int(first):
        return None
    return int(first), int(last) + 1
