"""Who may talk to the label page: Jupyter's rules for a local server that moves a person's files.

A page on 127.0.0.1 is reachable by every other web page open in the same browser: a cross-origin
``<form>`` can POST ``text/plain`` to it, and DNS rebinding (a name that first resolves to the
attacker, then to 127.0.0.1) lets a foreign page read and write it as if same-origin. Without
these checks any site could move the user's photos into the wrong training folders. So, as
Jupyter does:

* a per-run token (``secrets``), printed in the page's URL and required on every request, in the
  query (``?token=``) or the ``Authorization: token ...`` header, compared in constant time;
* the ``Host`` header must name the address the server binds (a rebinding attacker's name is
  refused; on a wildcard bind only IP literals and ``localhost`` are accepted: rebinding needs a
  name);
* a POST must be ``Content-Type: application/json`` (a form cannot send that cross-origin
  without a CORS preflight, which this server never answers), and its ``Origin``, when a browser
  sends one, must be the page's own.

Each refusal is a :class:`Refusal`: a status (403, or 415 for the body type) and a message the
handler returns as JSON.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("", "0.0.0.0", "::")
JSON = "application/json"


class Headers(Protocol):
    """Request headers looked up by name, case-insensitively (``http.server``'s message)."""

    def get(self, name: str, /) -> str | None: ...


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused, and with which status."""

    status: HTTPStatus
    message: str


@dataclass(frozen=True)
class Guard:
    """The token of this run and the ``Host`` values the page answers to."""

    token: str
    hosts: frozenset[str]
    port: int
    any_ip: bool = False  # bound to a wildcard address: any IP literal (with the port) is ours

    @classmethod
    def for_address(cls, host: str, port: int, token: str | None = None) -> Guard:
        """The guard of a server bound to ``host:port``, with a fresh token unless given."""
        names = {_bracket(host)}
        if host in WILDCARDS or _is_loopback(host):
            names |= set(LOOPBACK_NAMES)
        hosts = frozenset(f"{n}:{port}" for n in names if n not in WILDCARDS)
        return cls(token or secrets.token_urlsafe(24), hosts, port, host in WILDCARDS)

    def url(self, host: str, path: str = "/") -> str:
        """The page's address with the token, as printed for the person to open."""
        shown = "127.0.0.1" if host in WILDCARDS else _bracket(host)
        return f"http://{shown}:{self.port}{path}?token={self.token}"

    def check(self, method: str, target: str, headers: Headers) -> Refusal | None:
        """None when the request may proceed, else the refusal to answer with."""
        host = (headers.get("Host") or "").strip().lower()
        if not self._host_ok(host):
            return Refusal(HTTPStatus.FORBIDDEN, f"Host {host!r} is not this label page's address")
        if not self._token_ok(target, headers.get("Authorization") or ""):
            return Refusal(HTTPStatus.FORBIDDEN, "missing or wrong token: open the URL it printed")
        if method != "POST":
            return None
        origin = headers.get("Origin")
        if origin is not None and origin.lower() != f"http://{host}":
            return Refusal(HTTPStatus.FORBIDDEN, f"cross-origin request from {origin!r} refused")
        media = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media != JSON:
            return Refusal(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"body must be {JSON}, not {media or 'none'!r}"
            )
        return None

    def _host_ok(self, host: str) -> bool:
        if host in self.hosts:
            return True
        if not self.any_ip:
            return False
        name, _, port = host.rpartition(":")
        return port == str(self.port) and (name == "localhost" or _is_ip(name.strip("[]")))

    def _token_ok(self, target: str, authorization: str) -> bool:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
        given = query.get("token", [""])[-1]
        scheme, _, value = authorization.partition(" ")
        if not given and scheme.lower() == "token":
            given = value.strip()
        return hmac.compare_digest(given.encode(), self.token.encode())


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    return host == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)


def _bracket(host: str) -> str:
    """An IPv6 literal as it appears in a Host header."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host.lower()
