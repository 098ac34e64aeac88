"""Safety battery: pointed at something that does not look like a test target, no fixture drops, flushes or deletes.

The full matrix (a sentinel is written first; after the run it is still there):

=======================  ==============================================  ==============================================
service                  unsafe target                                   proved by
=======================  ==============================================  ==============================================
redis                    a database holding keys the run did not create  *here*; test_redis_fixtures (and the opt-in
                         (no TEST_REDIS_ALLOW_FLUSH)                     TEST_REDIS_ALLOW_FLUSH flushes as asked)
redis                    a non-loopback host: no host rule; the foreign-keys rule protects any host, an empty database is
                         flushed wherever it is
mongodb                  a database whose name lacks "test"              *here*; test_mongodb_fixtures (with the opt-in
                                                                         TEST_MONGODB_ALLOW_UNSAFE it is cleaned)
mongodb                  a server that is not on loopback                test_mongodb_fixtures (a FerretDB served on the
                                                                         machine's own address, sentinel kept)
s3                       a bucket without the "test-" prefix             *here*; test_s3_safety
s3                       a "test-" bucket these fixtures did not create  test_s3_safety (only a bucket tagged as ours is
                         (no ownership tag)                              emptied, e.g. one a crashed run left)
s3                       real AWS (non-loopback hosts are otherwise      *here* (malformed / AWS endpoint in
                         fine: the bucket rules apply)                   test_faults); test_s3_aws_guard
openai                   the real API (api.openai.com, Azure)            *here*; test_openai_guard (clients built any
                                                                         way are refused before connecting)
=======================  ==============================================  ==============================================
"""

from __future__ import annotations

import pymongo
import pytest
import redis as redis_py

from narrative_fixtures.provisioning import ProvisionContext
from tests.mongodb_support import CACHE_DIR, MONGODB_VARIABLES, own_ferretdb, settings

DESTRUCTIVE = """
import pytest


@pytest.mark.asyncio
async def test_redis(redis_client):
    await redis_client.set("written-by-the-run", "x")


@pytest.mark.asyncio
async def test_mongodb(setup_database):
    await setup_database.scratch.insert_one({"written": "by the run"})


def test_s3(s3_client, test_s3_bucket):
    s3_client.put_object(Bucket=test_s3_bucket, Key="written-by-the-run.txt", Body=b"x")


def test_openai(openai_sync_client):
    openai_sync_client.models.list()
"""


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    """A Redis, a FerretDB and an S3 server of this module's own, acting as someone else's services."""
    from narrative_fixtures.services.redis import PROVIDER as REDIS
    from narrative_fixtures.services.s3 import PROVIDER as S3

    context = ProvisionContext(settings(services_log_dir=str(tmp_path_factory.mktemp("logs"))), "master")
    redis_endpoint, redis_server = REDIS.start_embedded(context)
    s3_endpoint, s3_server = S3.start_embedded(context)
    try:
        with own_ferretdb() as mongo_endpoint:
            yield {"redis": redis_endpoint.url, "mongodb": mongo_endpoint.url, "s3": s3_endpoint.url}
    finally:
        s3_server.stop()
        redis_server.stop()


@pytest.mark.timeout(120)
def test_no_service_touches_a_target_that_is_not_a_test_target(project, targets):
    from narrative_fixtures.services.s3 import EMBEDDED_CREDENTIALS, make_client

    # sentinels, written as their owners would
    redis_db = targets["redis"][: -len("/0")] + "/7"
    owner_redis = redis_py.Redis.from_url(redis_db, decode_responses=True)
    owner_redis.set("customer:42", "precious")
    owner_mongo = pymongo.MongoClient(targets["mongodb"], serverSelectionTimeoutMS=5000)
    owner_mongo.customers.orders.insert_one({"_id": "order-42", "total": 99.5})
    owner_s3 = make_client(targets["s3"], credentials=EMBEDDED_CREDENTIALS, region="us-east-1")
    owner_s3.create_bucket(Bucket="narrative-prod-data")
    owner_s3.put_object(Bucket="narrative-prod-data", Key="contracts/42.pdf", Body=b"%PDF signed")
    try:
        for variable in (*MONGODB_VARIABLES, "TEST_REDIS_ALLOW_FLUSH", "TEST_S3_ALLOW_AWS", "PYTEST_XDIST_WORKER"):
            project._monkeypatch.delenv(variable, raising=False)
        project._monkeypatch.setenv("NARRATIVE_CACHE_DIR", str(CACHE_DIR))
        for variable, value in {
            "TEST_REDIS_URL": redis_db,
            "TEST_MONGODB_URI": targets["mongodb"], "TEST_MONGODB_DB": "customers",
            "S3_ENDPOINT_URL": targets["s3"], "TEST_S3_BUCKET": "narrative-prod-data",
            "TEST_OPENAI_BASE_URL": "https://api.openai.com/v1",
        }.items():
            project._monkeypatch.setenv(variable, value)
        project.makepyfile(DESTRUCTIVE)
        result = project.runpytest_inprocess("-p", "no:randomly", "-rE")
        result.assert_outcomes(errors=4)  # refused, never skipped: a mistake must be seen
        result.stdout.fnmatch_lines_random([
            "*holds 1 keys this run did not create; refusing to flush it*TEST_REDIS_ALLOW_FLUSH*",
            "*refusing to clean MongoDB database 'customers'*does not contain 'test'*TEST_MONGODB_ALLOW_UNSAFE*",
            "*bucket 'narrative-prod-data*' does not start with 'test-'; refusing to create or clean it*TEST_S3_BUCKET*",
            "*TEST_OPENAI_BASE_URL=https://api.openai.com/v1 is the real OpenAI API: tests never call it*",
        ])
        # every sentinel is still there, and nothing of the run was written next to it
        assert owner_redis.get("customer:42") == "precious" and owner_redis.dbsize() == 1
        assert list(owner_mongo.customers.orders.find()) == [{"_id": "order-42", "total": 99.5}]
        assert owner_mongo.customers.list_collection_names() == ["orders"], "not even an index or a scratch write"
        listed = owner_s3.list_objects_v2(Bucket="narrative-prod-data")["Contents"]
        assert [item["Key"] for item in listed] == ["contracts/42.pdf"]
        body = owner_s3.get_object(Bucket="narrative-prod-data", Key="contracts/42.pdf")["Body"].read()
        assert body == b"%PDF signed"
    finally:
        owner_redis.flushdb()
        owner_redis.close()
        owner_mongo.drop_database("customers")
        owner_mongo.close()
        for item in owner_s3.list_objects_v2(Bucket="narrative-prod-data").get("Contents", []):
            owner_s3.delete_object(Bucket="narrative-prod-data", Key=item["Key"])
        owner_s3.delete_bucket(Bucket="narrative-prod-data")
        owner_s3.close()
