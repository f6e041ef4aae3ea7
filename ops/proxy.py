"""What a request says about the way it came in: server mode's nginx adds forwarding headers, so a
request without them on a loopback address was made by an operator or a supervisor on this machine.
Standard library only (imported by the Rasa channels, the action server and the partner web app)."""
from __future__ import annotations

import ipaddress

FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def direct_loopback(request: object) -> bool:
    """A caller on this machine that did not come through a proxy. `request` is a Sanic request (its
    `headers` are case-insensitive, its `ip` the connection's address)."""
    headers = getattr(request, "headers", {}) or {}
    if any(headers.get(name) is not None for name in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(getattr(request, "ip", "") or "").is_loopback
    except ValueError:
        return False
