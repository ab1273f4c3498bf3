"""Network addresses as configuration names them (pure: no name resolution)."""

from __future__ import annotations

import ipaddress


def is_loopback(address: str) -> bool:
    """Whether HOST:PORT names this machine only: 127.0.0.0/8, ::1 (bracketed or not) or
    `localhost`. A name that might resolve elsewhere is not loopback."""
    host = address.rpartition(":")[0].strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
