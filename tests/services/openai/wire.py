"""A scripted HTTP server for the provider's and factories' self-tests: each path answers as a test sets it (a status
and JSON, a body that never comes, a closed connection, a line that is not HTTP), and every request it parsed is
recorded (method, path, headers), so a test reads what the provider sent as well as what it made of the answer."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: object = None  # JSON-encoded unless bytes
    how: str = "answer"  # answer | slow (0.3 s late) | stall (headers, then a body that never comes) | cut (the body
    # cut short: the connection closed before its announced length) | close | garbage


class _Handler(BaseHTTPRequestHandler):
    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed:
            self.server.seen.append((self.command, self.path, dict(self.headers)))
        return parsed

    def do_GET(self):
        answer = self.server.routes.get(self.path, Answer(404, {"error": {"message": "not here"}}))
        if answer.how == "close":
            self.close_connection = True
            return
        if answer.how == "garbage":
            self.wfile.write(b"HELLO\r\n\r\n")
            self.close_connection = True
            return
        if answer.how == "slow":
            time.sleep(0.3)  # a slow fake that still answers well within the caller's budget
        body = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body) + (100 if answer.how in ("stall", "cut") else 0)))
        self.end_headers()
        if answer.how == "stall":
            self.wfile.flush()
            self.rfile.read(1)  # holds the connection until the client closes it
            self.close_connection = True
            return
        self.wfile.write(body)
        if answer.how == "cut":
            self.close_connection = True

    def log_message(self, *args):
        pass


class WireServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Answer] = {}
        self.seen: list[tuple[str, str, dict]] = []

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def paths(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path, _ in self.seen]


def serve() -> WireServer:
    server = WireServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def silent_socket() -> socket.socket:
    """A loopback socket that accepts connections (the kernel's backlog) and never answers."""
    return socket.create_server(("127.0.0.1", 0), backlog=8)
