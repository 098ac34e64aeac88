"""A line client of an echo server (``echo://host:port``)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit


class EchoClient:
    """One connection: :attr:`banner` is the server's greeting, :meth:`say` sends a line and returns the answer."""

    def __init__(self, url: str, timeout: float = 1.0) -> None:
        parts = urlsplit(url)
        self.socket = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self.reader = self.socket.makefile("rb")
        self.banner = self.reader.readline().decode().strip()

    def say(self, line: str) -> str:
        self.socket.sendall(line.encode() + b"\n")
        return self.reader.readline().decode().rstrip("\n")

    def close(self) -> None:
        self.reader.close()
        self.socket.close()
