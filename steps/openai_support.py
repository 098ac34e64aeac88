"""What the OpenAI feature's step modules share: the SDK (imported lazily), the model asked, how a step quotes,
and :class:`Asked`, what a When step hands to its Then steps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from steps.common import lazy_module

openai = lazy_module("openai")  # imported at the first OpenAI step, not while pytest starts (~1 s)

MODEL = "gpt-4o-mini"
QUOTED = r'"(?P<{}>[^"]*)"'
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def quoted(text: str) -> list[str]:
    """The double-quoted pieces of a step's text, in order."""
    return re.findall(r'"([^"]*)"', text)


def canned(kind: str) -> str:
    """A canned response's key from its words in a step (``data summarization`` -> ``data_summarization``)."""
    return kind.strip().replace(" ", "_")


def user(question: str) -> list[dict]:
    """A chat conversation of one user message."""
    return [{"role": "user", "content": question}]


@dataclass
class Asked:
    """What a When step did: the question(s), the answer(s) or the SDK's exception, stream chunks."""

    question: str = ""
    completion: Any = None
    error: Exception | None = None
    completions: list = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    chunks: list = field(default_factory=list)
    details: dict = field(default_factory=dict)


async def attempt(awaitable) -> tuple[Any, Exception | None]:
    """``(answer, None)``, or ``(None, error)`` when the SDK raised one of its errors."""
    try:
        return await awaitable, None
    except openai.OpenAIError as error:
        return None, error
