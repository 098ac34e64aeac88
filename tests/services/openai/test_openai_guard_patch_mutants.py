"""Self-tests that kill the mutation run's survivors in the guard's connection-pool layer (``fake/guard.py``), on
a stand-in for httpcore (the real one was patched when the run started, before any mutant): the pools of a module
are guarded once, a request to the real API gets the 403 naming it, any other host reaches the pool unchanged."""

from __future__ import annotations

import asyncio
import types

import pytest

from narrative_fixtures.services.openai.fake import guard


class _Url:
    def __init__(self, host: str, target: str) -> None:
        self.scheme, self.host, self.target = b"https", host.encode(), target.encode()


class _Request:
    def __init__(self, host: str, target: str = "/v1/chat/completions?api-version=1") -> None:
        self.method, self.url = b"POST", _Url(host, target)


class _Response:
    def __init__(self, status: int, headers=None, content: bytes = b"") -> None:
        self.status, self.headers, self.content = status, headers, content


def _stand_in(name: str = "httpcore", with_async: bool = True) -> types.ModuleType:
    module = types.ModuleType(name)

    class ConnectionPool:
        def handle_request(self, request):
            return "reached the network"

    class AsyncConnectionPool:
        async def handle_async_request(self, request):
            return "reached the network"

    module.ConnectionPool, module.Response = ConnectionPool, _Response
    if with_async:
        module.AsyncConnectionPool = AsyncConnectionPool
    return module


@pytest.fixture
def patched_entries():
    """The guard's list of patched pools, given back as it was (the stand-ins are forgotten)."""
    before = list(guard._PATCHED)
    yield guard._PATCHED
    guard._PATCHED[:] = before


def test_a_module_s_pools_answer_the_real_api_with_the_403_and_pass_other_hosts(patched_entries):
    module = _stand_in()
    guard._patch(module)
    pool, async_pool = module.ConnectionPool(), module.AsyncConnectionPool()
    blocked = pool.handle_request(_Request("api.openai.com"))
    assert isinstance(blocked, _Response) and blocked.status == 403
    assert blocked.headers == [(b"content-type", b"application/json"), (b"x-should-retry", b"false")]
    expected = guard.error_body(guard.blocked_message("POST https://api.openai.com/v1/chat/completions"))
    assert blocked.content == expected
    assert asyncio.run(async_pool.handle_async_request(_Request("x.openai.azure.com"))).status == 403
    assert pool.handle_request(_Request("127.0.0.1")) == "reached the network"
    assert asyncio.run(async_pool.handle_async_request(_Request("127.0.0.1"))) == "reached the network"
    assert module.ConnectionPool.handle_request._narrative_guard is True
    assert module.AsyncConnectionPool.handle_async_request._narrative_guard is True


def test_a_module_is_patched_once_and_one_without_both_pools_not_at_all(patched_entries):
    module = _stand_in()
    guard._patch(module)
    once = module.ConnectionPool.handle_request
    guard._patch(module)
    assert module.ConnectionPool.handle_request is once and len(patched_entries) == len(guard._PATCHED)
    assert sum(entry[0] is module.ConnectionPool for entry in patched_entries) == 1
    guard._patch(types.ModuleType("httpcore"))  # a copy without pools (a stub): left alone, no error
    lone = _stand_in(with_async=False)
    original = lone.ConnectionPool.handle_request
    guard._patch(lone)
    assert lone.ConnectionPool.handle_request is original


def test_only_the_http_modules_are_patched_on_import_and_httpx_brings_its_httpcore(patched_entries, monkeypatch):
    other = _stand_in("requests_like")
    guard._after_import(other)
    assert not getattr(other.ConnectionPool.handle_request, "_narrative_guard", False)
    core = _stand_in("httpcore")
    guard._after_import(core)
    assert core.ConnectionPool.handle_request._narrative_guard is True
    imported = []
    monkeypatch.setattr(guard.importlib, "import_module", imported.append)
    guard._after_import(types.ModuleType("httpx"))
    assert imported == ["httpcore"]


def test_a_request_s_host_is_read_from_bytes_or_text_with_unreadable_bytes_replaced():
    def host_of(host) -> str:
        request = _Request("placeholder")
        request.url.host = host
        return guard._host(request)

    assert host_of(b"api.openai.com") == "api.openai.com" and host_of("api.openai.com") == "api.openai.com"
    assert host_of(b"\xff.example") == "\ufffd.example"
