"""Raw requests to the fake OpenAI API (``http.client`` sends whatever it is told, a non-numeric
``Content-Length`` too) and a plain SDK client without retries, for the self-tests of bad and large requests."""

from __future__ import annotations

import http.client
import json

import openai

from .conftest import KEY

AUTH = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


def send(server, body: bytes | None = None, headers: dict | None = None, path: str = "/v1/chat/completions",
         method: str = "POST") -> tuple[int, object]:
    """One raw request, headers exactly as given (``Content-Length`` from the body unless given); status and JSON."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        headers = dict(AUTH if headers is None else headers)
        if body is not None and not any(name.lower() == "content-length" for name in headers):
            headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


def post_json(server, body: dict, headers: dict | None = None) -> tuple[int, object]:
    """:func:`send` of a JSON body."""
    return send(server, json.dumps(body).encode(), headers)


def sdk(server, **options) -> openai.OpenAI:
    """The real SDK client, not strict, without retries, so each answer is one request."""
    return openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0, timeout=10, **options)
