"""An outside team's app under test reads its settings from the environment: ``service_environment`` gives the
variables of the services a test uses (raw values, masked repr), and an ASGI app driven through httpx reaches them.

FastAPI is not a dependency: the app here is a plain ASGI callable, which is what FastAPI builds (the FastAPI
version of the same test is in ``narrative_fixtures.services.environment``'s docstring)."""

from __future__ import annotations

APP = '''
import json
import os

import boto3
import redis.asyncio as redis


async def app(scope, receive, send):
    """POST /jobs/<name> queues the job in Redis and stores its file in S3, both found through the environment."""
    job = scope["path"].rsplit("/", 1)[-1]
    async with redis.from_url(os.environ["REDIS_URL"], decode_responses=True) as client:
        await client.lpush("jobs", job)
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])  # keys and region: AWS_* variables
    s3.put_object(Bucket=os.environ["S3_BUCKET"], Key=f"jobs/{job}", Body=b"queued")
    body = json.dumps({"queued": job}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
'''

TESTS = '''
import httpx
import pytest


@pytest.fixture
def app(service_environment, monkeypatch):
    for key, value in service_environment.items():
        monkeypatch.setenv(key, value)
    from app import app
    return app


async def test_the_app_reaches_the_services_of_the_test(app, redis_client, s3_client, test_s3_bucket):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.post("/jobs/train")
    assert response.json() == {"queued": "train"}
    assert await redis_client.lrange("jobs", 0, -1) == ["train"]
    assert s3_client.get_object(Bucket=test_s3_bucket, Key="jobs/train")["Body"].read() == b"queued"


def test_only_the_services_used_and_secrets_masked_when_shown(service_environment, redis_service, s3_service):
    assert set(service_environment) >= {"REDIS_URL", "S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                        "AWS_DEFAULT_REGION", "S3_BUCKET"}
    assert not any(key.startswith(("MONGODB", "OPENAI")) for key in service_environment)  # not used: not started
    assert service_environment["REDIS_URL"] == redis_service.url
    assert service_environment["AWS_SECRET_ACCESS_KEY"] == s3_service.secret_access_key != "***"
    shown = repr(service_environment) + str(service_environment)
    assert redis_service.password not in shown and s3_service.secret_access_key not in shown
    assert "redis://:***@" in shown


def test_the_fake_openai_key_and_url(service_environment, openai_service):
    assert service_environment == {"OPENAI_BASE_URL": openai_service.url, "OPENAI_API_KEY": openai_service.api_key}
'''

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


def test_an_asgi_app_driven_through_httpx_reads_the_services_from_service_environment(project):
    project.makeini(INI)
    project.makepyfile(app=APP, test_app=TESTS)
    project.syspathinsert()

    result = project.runpytest_subprocess("-p", "no:randomly", "-p", "narrative_fixtures.services.environment",
                                          "--require-services", timeout=300)

    result.assert_outcomes(passed=3)
