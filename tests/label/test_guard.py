"""The label page refuses what another web page in the same browser could send it (Jupyter's
rules, ``label/guard.py``), tested against ``modelplane label`` running as a person runs it: no
token or a wrong one, a foreign ``Host`` (DNS rebinding), a cross-origin ``text/plain`` form post,
a foreign ``Origin``. Each is a 403/415 with a JSON error, and no photo moves; the page's own
request, sent last, moves one.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from label.kit import LabelPage, folder_of, gate_classes, gate_photos, label_page, top_level
from modelplane_inference.label.guard import Guard
from serving.servers import free_port

pytestmark = pytest.mark.timeout(120)


def _send(
    page: LabelPage, method: str, target: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, Any]:
    """One raw request (http.client sends exactly the Host it is given)."""
    address = urllib.parse.urlsplit(page.base)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        payload = response.read()
        assert response.getheader("Content-Type") == "application/json", payload[:200]
        return response.status, json.loads(payload)
    finally:
        connection.close()


def test_every_refusal_leaves_the_photos_where_they_are(tmp_path: Path, repository: Path) -> None:
    photos = tmp_path / "photos"
    truth = gate_photos(photos, gate_classes(repository), per_class=1, seed=7)
    name = sorted(truth)[0]
    nowhere = f"127.0.0.1:{free_port()}"
    with label_page(photos, repository, nowhere, tmp_path / "label.log") as page:
        host = urllib.parse.urlsplit(page.base).netloc
        port = host.rpartition(":")[2]
        form = "application/x-www-form-urlencoded"
        own = {"Host": host, "Origin": f"http://{host}", "Content-Type": "application/json"}
        decide = json.dumps({"choices": [{"image": name, "label": truth[name]}]}).encode()
        token = f"?token={page.token}"
        refused = [
            ("GET", "/api/state", {"Host": host}, b"", 403),  # no token
            ("GET", f"/image/{name}", {"Host": host}, b"", 403),
            ("GET", "/api/state?token=wrong", {"Host": host}, b"", 403),
            ("GET", f"/api/state{token}", {"Host": "attacker.example:80"}, b"", 403),
            ("POST", "/api/decide", own, decide, 403),  # no token
            ("POST", f"/api/decide{token}", {**own, "Host": f"rebind.example:{port}"},
             decide, 403),
            ("POST", f"/api/decide{token}", {**own, "Content-Type": "text/plain"}, decide, 415),
            ("POST", f"/api/decide{token}", {**own, "Content-Type": form}, decide, 415),
            ("POST", f"/api/decide{token}", {**own, "Origin": "http://evil.example"}, decide, 403),
            ("POST", f"/api/undo{token}", {**own, "Origin": "null"}, b"{}", 403),
        ]  # fmt: skip
        for method, target, headers, body, status in refused:
            answer = _send(page, method, target, headers, body)
            assert answer[0] == status and "error" in answer[1], (target, headers, answer)
            assert top_level(photos) == set(truth), (target, headers)
        # The token also works as the header the page sends; then the page's own POST moves one.
        authorised = {"Host": host, "Authorization": f"token {page.token}"}
        assert _send(page, "GET", "/api/state", authorised)[0] == 200
        with urllib.request.urlopen(page.at("review"), timeout=10) as response:
            assert response.headers["Referrer-Policy"] == "no-referrer"  # the URL has the token
            assert response.headers["X-Frame-Options"] == "DENY"
        status, payload = _send(page, "POST", f"/api/decide{token}", own, decide)
        assert status == 200 and payload["decided"][0]["image"] == name, payload
    assert name not in top_level(photos)
    assert (photos / folder_of(truth[name]) / name).is_file()


@pytest.mark.parametrize(
    ("bind", "host", "allowed"),
    [
        ("127.0.0.1", "127.0.0.1:8090", True),
        ("127.0.0.1", "localhost:8090", True),
        ("127.0.0.1", "127.0.0.1:8091", False),  # another port: another origin
        ("127.0.0.1", "evil.example:8090", False),  # DNS rebinding
        ("127.0.0.1", "10.0.0.5:8090", False),
        ("0.0.0.0", "10.0.0.5:8090", True),  # a wildcard bind answers its IP literals
        ("0.0.0.0", "[fe80::1]:8090", True),
        ("0.0.0.0", "evil.example:8090", False),  # but never a name it cannot know
        ("::1", "[::1]:8090", True),
        ("192.168.1.20", "192.168.1.20:8090", True),
        ("192.168.1.20", "localhost:8090", False),
    ],
)
def test_host_check_follows_the_bound_address(bind: str, host: str, allowed: bool) -> None:
    guard = Guard.for_address(bind, 8090, token="t")
    refusal = guard.check("GET", "/?token=t", {"Host": host})
    assert (refusal is None) is allowed, refusal


def test_each_run_has_its_own_token_and_prints_it() -> None:
    first, second = Guard.for_address("127.0.0.1", 8090), Guard.for_address("127.0.0.1", 8090)
    assert first.token != second.token and len(first.token) >= 32
    assert first.url("127.0.0.1", "/review") == f"http://127.0.0.1:8090/review?token={first.token}"
    assert first.check("GET", "/", {"Host": "127.0.0.1:8090"}) is not None
    assert first.check("GET", f"/?token={second.token}", {"Host": "127.0.0.1:8090"}) is not None
