"""``modelplane label DIR --model car-claims``: the labelling page on 127.0.0.1.

A standard-library HTTP server (one page, a few JSON routes; nothing to install, nothing fetched
from outside, no torch) and one background thread that asks the served model about every
unlabelled image through :class:`~modelplane_inference.client.Client` — the client that talks to
``modelplane serve`` and to a cluster alike, and makes its review thumbnail meanwhile. Two pages:
``/`` shows one photo at a time; ``/review`` shows pages of ~24 thumbnails grouped by suggested
class, where the person fixes the wrong ones and confirms the page with one key. The pages order,
prefetch and send decisions; the :class:`~modelplane_inference.label.store.LabelStore` writes each
one before it answers. When the model cannot be reached the page says so and the images are
labelled by hand. Every request passes :class:`~modelplane_inference.label.guard.Guard` first
(token, Host, JSON bodies, Origin).
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from dataclasses import asdict, dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from modelplane_inference.client import Client, PredictError
from modelplane_inference.errors import StoreError
from modelplane_inference.label import pictures
from modelplane_inference.label.guard import Guard
from modelplane_inference.label.store import LabelStore
from modelplane_inference.label.tasks import Suggestion, Task

log = logging.getLogger("modelplane_inference.label")
MAX_BODY = 1 << 20
FAILURES_BEFORE_DOWN = 3  # consecutive unreachable answers before the page says "no model"
PAGES = {"/": "index.html", "/index.html": "index.html", "/review": "review.html"}
# The token is in the page's URL: never sent on as a Referer; no other site may frame the page
# (clickjacking) or run what it serves as another type.
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
# Where each page gets what both pages share: marker -> (element, file in static/).
SHARED = {
    "<!-- common.css -->": ("style", "common.css"),
    "<!-- common.js -->": ("script", "common.js"),
}


@dataclass(frozen=True)
class LabelOptions:
    """Where the images are, which model to ask and where the page listens."""

    directory: Path
    task: Task
    url: str
    protocol: str = "grpc"
    host: str = "127.0.0.1"
    port: int = 8090
    token: str | None = None  # None: a fresh one per run


class Prelabeller:
    """Asks the model about each unlabelled image once, in file order, in a thread."""

    def __init__(
        self, store: LabelStore, options: LabelOptions, thumbnails: pictures.Thumbnails
    ) -> None:
        self.store, self.options, self.thumbnails = store, options, thumbnails
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
        finally:
            self._thumbnail(image)
        return True

    def _thumbnail(self, image: str) -> None:
        """Made now, so a review page's thumbnails are ready before it is shown."""
        try:
            self.thumbnails.get(image)
        except pictures.PICTURE_ERRORS as exc:  # shown as a broken tile on the page
            log.warning("thumbnail", extra={"image": image, "error": str(exc)})

    def _down(self, reason: str) -> None:
        self.state, self.message = "down", f"{reason}. Label by hand: the class keys still work."
        log.warning("model unreachable", extra={"error": reason})


class LabelApp:
    """The state the routes read and change."""

    def __init__(self, options: LabelOptions) -> None:
        self.options = options
        self.store = LabelStore(options.directory, options.task)
        self.thumbnails = pictures.Thumbnails(options.directory)
        self.prelabeller = Prelabeller(self.store, options, self.thumbnails)
        self.guard = Guard.for_address(options.host, options.port, options.token)
        self.shown: set[str] = set()  # images whose picture has been sent to a page

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
        unseen = [image for image, _ in pairs if image not in self.shown]
        if body.get("reviewed") is True and unseen:
            # A review page confirms what it showed; a photo never sent cannot have been seen.
            raise StoreError(f"{len(unseen)} photos were never shown: {unseen[:5]}")
        decided = self.store.decide(pairs)
        return {"decided": [asdict(d) for d in decided], "counts": dict(self.store.counts)}

    def undo(self) -> dict[str, Any]:
        restored = self.store.undo()
        return {"restored": restored, "counts": dict(self.store.counts)}


class Handler(BaseHTTPRequestHandler):
    """Routes: ``/`` and ``/review`` (the pages), ``/api/state``, ``/image/<name>``,
    ``/thumb/<name>``, POST ``/api/decide`` and ``/api/undo``. Errors are JSON ``{"error": ...}``
    with a 4xx status; a request the guard refuses is answered before any route runs."""

    app: LabelApp
    server_version = "modelplane-label"

    def log_message(self, format: str, *args: Any) -> None:
        line = (format % args).replace(self.app.guard.token, "[token]")  # logs are shared
        log.debug("request", extra={"line": line})

    def do_GET(self) -> None:
        if self._refused("GET"):
            return
        path = urllib.parse.urlsplit(self.path).path
        if path in PAGES:
            self._send(HTTPStatus.OK, _page(PAGES[path]), "text/html; charset=utf-8")
        elif path == "/api/state":
            self._json(HTTPStatus.OK, self.app.state())
        elif path.startswith(("/image/", "/thumb/")):
            kind, _, name = path[1:].partition("/")
            self._picture(urllib.parse.unquote(name), thumbnail=kind == "thumb")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {path}"})

    def do_POST(self) -> None:
        if self._refused("POST"):
            return
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

    def _refused(self, method: str) -> bool:
        refusal = self.app.guard.check(method, self.path, self.headers)
        if refusal is None:
            return False
        log.warning(
            "refused",
            extra={"method": method, "path": urllib.parse.urlsplit(self.path).path,
                   "status": int(refusal.status), "reason": refusal.message},
        )  # fmt: skip
        self.close_connection = True  # the body (if any) is not read
        self._json(refusal.status, {"error": refusal.message})
        return True

    def _picture(self, name: str, thumbnail: bool) -> None:
        """The photo through the image contract (upright), as a JPEG; remembered as shown."""
        if name not in self.app.store.pending or "/" in name:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"{name!r} is not an unlabelled image"})
            return
        try:
            if thumbnail:
                data = self.app.thumbnails.get(name)
            else:
                data = pictures.render(self.app.store.root / name, pictures.VIEW_PX)
        except pictures.PICTURE_ERRORS as exc:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"{name}: {exc}"})
            return
        self.app.shown.add(name)
        self._send(HTTPStatus.OK, data, "image/jpeg")

    def _json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json")

    def _send(self, status: HTTPStatus, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _page(name: str) -> bytes:
    """A page with the style and script both pages share (token, JSON calls) written into it:
    one file each, no other request needed before the page can talk to the server."""
    static = resources.files("modelplane_inference.label").joinpath("static")
    html = static.joinpath(name).read_text(encoding="utf-8")
    for marker, (tag, file) in SHARED.items():
        text = static.joinpath(file).read_text(encoding="utf-8")
        html = html.replace(marker, f"<{tag}>\n{text}</{tag}>")
    return html.encode()


def make_server(options: LabelOptions) -> tuple[ThreadingHTTPServer, LabelApp]:
    """The page's server (not yet serving) and its app; the pre-labeller is started."""
    handler: type[Handler] = type("BoundHandler", (Handler,), {})
    server = ThreadingHTTPServer((options.host, options.port), handler)
    server.daemon_threads = True
    # The guard checks Host against the port actually bound (--port 0 picks a free one).
    app = LabelApp(replace(options, port=int(server.server_address[1])))
    handler.app = app
    threading.Thread(target=app.prelabeller.run, name="prelabel", daemon=True).start()
    return server, app


def run(options: LabelOptions) -> None:
    """Serve the page until Ctrl+C."""
    server, app = make_server(options)
    review = app.guard.url(options.host, "/review")
    log.info(
        "label page",
        extra={
            "url": review,
            "one_at_a_time": app.guard.url(options.host, "/"),
            "images": len(app.store.pending),
            "skipped": len(app.store.skipped),
        },
    )
    print(f"Open the label page (its token is in the URL): {review}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
