"""A tiny local HTTP server that answers like Stripe's Checkout Sessions API and records each request.

localstripe (installed) implements charges, customers and payment intents but not Checkout Sessions, so the
SDK call that creates a session is tested against this instead: no network."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class FakeStripe:
    base: str
    requests: list[Recorded] = field(default_factory=list)
    fail: bool = False


@contextmanager
def fake_stripe() -> Iterator[FakeStripe]:
    state: dict[str, Any] = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            fake.requests.append(Recorded("POST", self.path, dict(self.headers.items()), dict(parse_qsl(body))))
            if fake.fail:
                self._reply(400, {"error": {"type": "invalid_request_error", "message": "Invalid currency"}})
                return
            if self.path != "/v1/checkout/sessions":
                self._reply(404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}})
                return
            state["n"] += 1
            session_id = f"cs_test_{state['n']:04d}"
            form = dict(parse_qsl(body))
            self._reply(200, {
                "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
                "payment_status": "unpaid", "currency": form.get("line_items[0][price_data][currency]"),
                "amount_total": int(form.get("line_items[0][price_data][unit_amount]", "0")),
                "client_reference_id": form.get("client_reference_id"),
                "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            })

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", "req_fake")
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake = FakeStripe(base=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
