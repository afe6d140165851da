"""Host names: which are loopback, and the host of a Host header (no web framework needed, so
`pygestor ui` can say the extra is missing before anything imports it)."""

from __future__ import annotations

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback(host: str) -> bool:
    """`host` (a name or address, IPv6 with or without brackets) is this machine's loopback. A
    name that only starts like an address (`127.0.0.1.evil.example`) is not: it may resolve
    anywhere (DNS rebinding)."""
    import ipaddress

    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The host of a Host header, without its port: `[::1]:8000` -> `[::1]`."""
    if header.startswith("["):
        return header.partition("]")[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header
