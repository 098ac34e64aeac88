"""The strict-SDK-model checks the OpenAI fake's conformance tests share: an answer validates with ``strict=True``
into the SDK's own type, leaves no unknown field anywhere, serialises back without warnings; clients parse strictly.
"""

from __future__ import annotations

import warnings

import openai
from pydantic import BaseModel

from .conftest import KEY  # the fake's key (re-exported: one constant for every OpenAI self-test)


def strict_client(server, **options):
    return openai.OpenAI(base_url=server.url, api_key=KEY, _strict_response_validation=True, **options)


def no_leftovers(model: BaseModel, where: str = "") -> None:
    """No field the SDK does not know, anywhere in the parsed tree."""
    assert not model.model_extra, f"unknown fields at {where or type(model).__name__}: {model.model_extra}"
    for name in type(model).model_fields:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                no_leftovers(item, f"{where}.{name}")


def conforms(model_type: type[BaseModel], data: dict) -> BaseModel:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = model_type.model_validate(data, strict=True)
        no_leftovers(parsed)
        parsed.model_dump(warnings="error")
    return parsed


def sse_events(raw: str) -> list[str]:
    assert raw.endswith("data: [DONE]\n\n"), raw[-80:]
    events = raw.split("\n\n")[:-1]
    assert all(event.startswith("data: ") for event in events)
    return [event[len("data: ") :] for event in events]
