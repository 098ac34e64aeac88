"""A route the fake does not serve answers OpenAI's 404 saying so plainly, lists what it serves, and is recorded."""

from __future__ import annotations

import httpx
import openai
import pytest

from narrative_fixtures.services.openai.fake import urls
from narrative_fixtures.services.openai.fake.unserved import route_label, served_endpoints

from .conftest import KEY


def test_the_served_list_is_every_api_route_of_the_table(monkeypatch):
    listed = served_endpoints()
    assert "POST /v1/chat/completions" in listed and "GET /v1/models/{model}" in listed
    assert "POST /v1/embeddings" in listed and not any("/_fake/" in entry for entry in listed)
    monkeypatch.setattr(urls, "ROUTES", [*urls.ROUTES, ("POST", urls.re.compile(r"^/v1/batches$"), None)])
    assert served_endpoints()[-1] == "POST /v1/batches"  # derived from the routes, never a copy


def test_route_labels_show_path_parameters_by_name():
    assert route_label("GET", urls.re.compile(r"^/v1/responses/(?P<response_id>[^/]+)$")) == "GET /v1/responses/{response_id}"


@pytest.mark.parametrize("method, path", [("POST", "/files"), ("GET", "/batches/b_1"), ("POST", "/audio/speech")])
def test_the_sdk_raises_not_found_saying_the_fake_does_not_serve_it(server, fake, method, path):
    client = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError) as raised:
        client.request(object, openai._base_client.FinalRequestOptions.construct(method=method.lower(), url=path))
    message = raised.value.body["message"]
    assert message.startswith(f"Invalid URL ({method} /v1{path}): the fake OpenAI API")
    assert "does not serve this endpoint" in message and "POST /v1/embeddings" in message
    assert raised.value.body["type"] == "invalid_request_error"
    assert [(entry.method, entry.path, entry.status) for entry in fake.requests] == [(method, f"/v1{path}", 404)]


def test_a_path_outside_v1_hints_at_the_base_url(server, fake):
    with httpx.Client(base_url=server.root_url, headers={"authorization": f"Bearer {KEY}"}) as http:
        answer = http.post("/chat/completions", json={})
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == (
        "Invalid URL (POST /chat/completions): the fake OpenAI API serves the API under /v1 (a client's base URL"
        " ends in /v1)."
    )
    assert fake.requests == []  # not an API path: nothing to record
