"""``modelplane label DIR --model car-claims``: the labelling page on 127.0.0.1.

A standard-library HTTP server (one page, a few JSON routes; nothing to install, nothing fetched
from outside, no torch) and one background thread that asks the served model about every
unlabelled image through :class:`~modelplane_inference.client.Client` — the client that talks to
``modelplane serve`` and to a cluster alike. The page orders, prefetches and sends decisions; the
:class:`~modelplane_inference.label.store.LabelStore` writes each one before it answers. When the
model cannot be reached the page says so and the images are labelled by hand.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from dataclasses import asdict, dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from modelplane_inference.client import Client, PredictError
from modelplane_inference.label.store import LabelStore, StoreError
from modelplane_inference.label.tasks import Suggestion, Task

log = logging.getLogger("modelplane_inference.label")
MAX_BODY = 1 << 20
FAILURES_BEFORE_DOWN = 3  # consecutive unreachable answers before the page says "no model"


@dataclass(frozen=True)
class LabelOptions:
    """Where the images are, which model to ask and where the page listens."""

    directory: Path
    task: Task
    url: str
    protocol: str = "grpc"
    host: str = "127.0.0.1"
    port: int = 8090


class Prelabeller:
    """Asks the model about each unlabelled image once, in file order, in a thread."""

    def __init__(self, store: LabelStore, options: LabelOptions) -> None:
        self.store, self.options = store, options
        self.suggestions: dict[str, Suggestion] = {}
        self.state = "starting"  # starting | labelling | done | down
        self.message = ""

    def run(self) -> None:
        task, client = self.options.task, Client(self.options.url, self.options.protocol, 30.0)
        try:
            reason = client.unready_reason(task.endpoint)
            if reason:
                self._down(reason)
                return
            self.state = "labelling"
            failures = 0
            for image in sorted(self.store.pending):
                failures = 0 if self._suggest(client, image) else failures + 1
                if failures >= FAILURES_BEFORE_DOWN:
                    again = client.unready_reason(task.endpoint)
                    if again:
                        self._down(again)
                        return
            self.state = "done"
            log.info("pre-labelled", extra={"images": len(self.suggestions)})
        finally:
            client.close()

    def _suggest(self, client: Client, image: str) -> bool:
        try:
            data = (self.store.root / image).read_bytes()
        except OSError:
            return True  # labelled by hand meanwhile
        try:
            answer = client.predict(self.options.task.endpoint, image=data)
            self.suggestions[image] = self.options.task.suggest(answer)
        except (PredictError, KeyError, TypeError, ValueError) as exc:
            self.suggestions[image] = Suggestion(None, 0.0, "", f"model error: {exc}"[:300])
            return False
        return True

    def _down(self, reason: str) -> None:
        self.state, self.message = "down", f"{reason}. Label by hand: the class keys still work."
        log.warning("model unreachable", extra={"error": reason})


class LabelApp:
    """The state the routes read and change."""

    def __init__(self, options: LabelOptions) -> None:
        self.options = options
        self.store = LabelStore(options.directory, options.task)
        self.prelabeller = Prelabeller(self.store, options)

    def state(self) -> dict[str, Any]:
        task, pre = self.options.task, self.prelabeller
        suggestions = pre.suggestions
        with self.store.lock:
            pending = sorted(self.store.pending)
            counts = dict(self.store.counts)
            undo = len(self.store.history)
        items = [
            {"image": name, **(asdict(suggestions[name]) if name in suggestions else {})}
            for name in pending
        ]
        return {
            "directory": str(self.options.directory),
            "task": {"kind": task.kind, "endpoint": task.endpoint, "url": self.options.url},
            "classes": [asdict(c) | {"count": counts.get(c.name, 0)} for c in task.classes],
            "items": items,
            "skipped": self.store.skipped,
            "model": {"state": pre.state, "message": pre.message, "done": len(suggestions)},
            "undo": undo,
        }

    def decide(self, body: dict[str, Any]) -> dict[str, Any]:
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices:
            raise StoreError('expected {"choices": [{"image": NAME, "label": CLASS}, ...]}')
        pairs = []
        for choice in choices:
            if not isinstance(choice, dict) or not {"image", "label"} <= choice.keys():
                raise StoreError("each choice needs an image and a label")
            pairs.append((str(choice["image"]), str(choice["label"])))
        decided = self.store.decide(pairs)
        return {"decided": [asdict(d) for d in decided], "counts": dict(self.store.counts)}

    def undo(self) -> dict[str, Any]:
        restored = self.store.undo()
        return {"restored": restored, "counts": dict(self.store.counts)}


class Handler(BaseHTTPRequestHandler):
    """Routes: ``/`` (the page), ``/api/state``, ``/image/<name>``, POST ``/api/decide`` and
    ``/api/undo``. Errors are JSON ``{"error": ...}`` with a 4xx status."""

    app: LabelApp
    server_version = "modelplane-label"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("request", extra={"line": format % args})

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path in ("/", "/index.html"):
            page = resources.files("modelplane_inference.label").joinpath("static/index.html")
            self._send(HTTPStatus.OK, page.read_bytes(), "text/html; charset=utf-8")
        elif path == "/api/state":
            self._json(HTTPStatus.OK, self.app.state())
        elif path.startswith("/image/"):
            self._image(urllib.parse.unquote(path.removeprefix("/image/")))
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {path}"})

    def do_POST(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise StoreError("request body too large")
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            if not isinstance(body, dict):
                raise StoreError("expected a JSON object")
            if path == "/api/decide":
                self._json(HTTPStatus.OK, self.app.decide(body))
            elif path == "/api/undo":
                self._json(HTTPStatus.OK, self.app.undo())
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {path}"})
        except (StoreError, ValueError) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})

    def _image(self, name: str) -> None:
        content_type = self.app.store.pending.get(name)
        if content_type is None or "/" in name:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"{name!r} is not an unlabelled image"})
            return
        try:
            data = (self.app.store.root / name).read_bytes()
        except OSError as exc:
            self._json(HTTPStatus.NOT_FOUND, {"error": str(exc)})
            return
        self._send(HTTPStatus.OK, data, content_type)

    def _json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json")

    def _send(self, status: HTTPStatus, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)


def make_server(options: LabelOptions) -> tuple[ThreadingHTTPServer, LabelApp]:
    """The page's server (not yet serving) and its app; the pre-labeller is started."""
    app = LabelApp(options)
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = ThreadingHTTPServer((options.host, options.port), handler)
    server.daemon_threads = True
    threading.Thread(target=app.prelabeller.run, name="prelabel", daemon=True).start()
    return server, app


def run(options: LabelOptions) -> None:
    """Serve the page until Ctrl+C."""
    server, app = make_server(options)
    host, port = server.server_address[:2]
    log.info(
        "label page",
        extra={
            "url": f"http://{host!s}:{port}/",
            "images": len(app.store.pending),
            "skipped": len(app.store.skipped),
        },
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
