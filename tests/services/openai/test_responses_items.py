"""A served Response's afterlife on the fake: its input items listed (paged, strict SDK types), deleted so that it
neither chains nor lists any more; inputs given as message lists with content parts."""

from __future__ import annotations

import openai
import pytest
from openai.types.responses import Response, ResponseItemList

from tests.services.openai.strict_models import conforms, strict_client

CONVERSATION = [
    {"role": "developer", "content": "Answer in one sentence."},
    {"role": "user", "content": [{"type": "input_text", "text": "Hello"}, {"type": "input_text", "text": " there"}]},
    {"role": "assistant", "content": "Hi! How can I help?"},
    {"type": "message", "role": "user", "content": "Count the rows of ds-42."},
]


def test_input_items_list_strictly_and_page_like_the_api(fake, http):
    served = conforms(Response, http.post("/responses", json={"model": "gpt-4o", "input": CONVERSATION}).json())
    newest_first = conforms(ResponseItemList, http.get(f"/responses/{served.id}/input_items").json())
    assert [item.role for item in newest_first.data] == ["user", "assistant", "user", "developer"]
    assert newest_first.data[2].content[1].text == " there" and not newest_first.has_more
    page = conforms(ResponseItemList, http.get(f"/responses/{served.id}/input_items?order=asc&limit=3").json())
    assert [item.role for item in page.data] == ["developer", "user", "assistant"] and page.has_more
    rest = http.get(f"/responses/{served.id}/input_items?order=asc&limit=3&after={page.last_id}").json()
    assert [item["role"] for item in rest["data"]] == ["user"] and rest["has_more"] is False
    assert http.get(f"/responses/{served.id}/input_items?order=up").json()["error"]["param"] == "order"


def test_the_sdk_pages_through_the_items_and_deletes(fake, server):
    with strict_client(server, max_retries=0) as client:
        served = client.responses.create(model="gpt-4o", input=CONVERSATION)
        items = list(client.responses.input_items.list(served.id, limit=1, order="asc"))  # pages of one, by `after`
        assert [item.role for item in items] == ["developer", "user", "assistant", "user"]
        client.responses.delete(served.id)
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(served.id)
        with pytest.raises(openai.BadRequestError, match="not found"):
            client.responses.create(model="gpt-4o", input="Again", previous_response_id=served.id)
        with pytest.raises(openai.NotFoundError):
            client.responses.delete(served.id)


def test_a_response_not_stored_cannot_be_chained(fake, http):
    served = http.post("/responses", json={"model": "gpt-4o", "input": "Hello", "store": False}).json()
    assert http.get(f"/responses/{served['id']}").status_code == 404
    chained = http.post("/responses", json={"model": "gpt-4o", "input": "x", "previous_response_id": served["id"]})
    assert chained.status_code == 400
