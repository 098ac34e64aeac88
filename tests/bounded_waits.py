"""What a check waited for, without a clock: every timeout given to a socket and every connection it attempted.

The self-tests assert no seconds (CI runs on a busy machine): a health check is "answered within 0.3 s" when every
socket it used had a timeout of at most 0.3 s (never a blocking one) and it tried one connection, not a retry loop.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from typing import Iterator

import pytest


@dataclass
class SocketWaits:
    """The timeouts (None: blocking) and connection addresses of the sockets one thread used."""

    timeouts: list[float | None] = field(default_factory=list)
    connects: list[object] = field(default_factory=list)

    def bounded_by(self, bound: float) -> bool:
        """True when sockets were used and none could wait longer than ``bound`` seconds per operation."""
        return bool(self.timeouts) and all(timeout is not None and timeout <= bound for timeout in self.timeouts)


@contextlib.contextmanager
def socket_waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[SocketWaits]:
    """Record :class:`SocketWaits` of the calling thread (other threads' sockets, e.g. servers', are left out)."""
    waits, caller = SocketWaits(), threading.get_ident()
    real_settimeout, real_connect = socket.socket.settimeout, socket.socket.connect

    def settimeout(sock, value):
        if threading.get_ident() == caller:
            waits.timeouts.append(value)
        return real_settimeout(sock, value)

    def connect(sock, address):
        if threading.get_ident() == caller:
            waits.connects.append(address)
            if sock.gettimeout() is None:
                waits.timeouts.append(None)  # connecting without a timeout: unbounded
        return real_connect(sock, address)

    with monkeypatch.context() as patch:
        patch.setattr(socket.socket, "settimeout", settimeout)
        patch.setattr(socket.socket, "connect", connect)
        yield waits
