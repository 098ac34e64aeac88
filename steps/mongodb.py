"""Steps of the MongoDB feature: thin, they use the plugin's fixtures and Beanie models through ``run_async``."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import pytest
from pytest_bdd import given, parsers, then, when

from narrative_fixtures.services.mongodb import CLAIM_COLLECTION, is_test_database_name, registered_model, sample_user_data
from steps.common import run_nested

DESCRIPTION = "Quarterly sales, cleaned: duplicates removed"


def _quoted(text: str) -> list[str]:
    return re.findall(r'"([^"]*)"', text)


def _model(models, name: str):
    return registered_model(models, name, "the MongoDB feature")


async def _counts(database) -> dict[str, int]:
    """Documents per collection; the run's claim on an external database (one document) is not test data."""
    names = [name for name in await database.list_collection_names() if name != CLAIM_COLLECTION]
    return {name: await database[name].count_documents({}) for name in names}


def _new_dataset(models, **overrides):
    return _model(models, "UserData")(**{**sample_user_data(), **overrides})


def _new_trained_model(models, dataset, **overrides):
    fields = dict(
        user_id=dataset.user_id, name="Churn classifier", model_type="random_forest", target_column="category",
        feature_columns=["id", "value"], hyperparameters={"n_estimators": 50},
        performance_metrics={"accuracy": 0.9}, dataset=dataset,
    )
    return _model(models, "TrainedModel")(**{**fields, **overrides})


def _new_batch_job(models, **overrides):
    fields = dict(job_type="model_training", user_id="test_user_123", params={"model_type": "random_forest"})
    return _model(models, "BatchJob")(**{**fields, **overrides})


# --- background ------------------------------------------------------------------------------------------------


@given("a clean test database with the application's documents registered", target_fixture="database")
def clean_database(setup_database, run_async):
    leftovers = {name: count for name, count in run_async(_counts(setup_database)).items() if count}
    assert not leftovers, f"the test did not start with an empty database: {leftovers}"
    return setup_database


# --- Beanie initialised, client connection -----------------------------------------------------------------------


@then("the test database is named for tests and holds no documents")
def database_named_for_tests(database, mongodb_service, run_async):
    assert database.name == mongodb_service.database
    assert is_test_database_name(database.name)
    assert sum(run_async(_counts(database)).values()) == 0


@then("uploaded datasets, trained models and batch jobs can each be stored and found again")
def every_document_type_works(beanie_document_models, run_async):
    dataset = _new_dataset(beanie_document_models)
    run_async(dataset.insert())
    documents = [dataset, _new_trained_model(beanie_document_models, dataset), _new_batch_job(beanie_document_models)]
    for document in documents[1:]:
        run_async(document.insert())
    for document in documents:
        model = type(document)
        assert run_async(model.get(document.id)) is not None, f"{model.__name__} {document.id} was not found"
        assert run_async(model.count()) == 1


@then("the database server answers")
def server_answers(mongo_client, run_async):
    assert run_async(mongo_client.admin.command("ping"))["ok"] == 1


@then("the database server is the one the run reports, named honestly")
def server_named_honestly(mongo_client, mongodb_service, run_async):
    build_info = run_async(mongo_client.admin.command("buildInfo"))
    if mongodb_service.backend == "FerretDB":
        assert build_info["ferretdbVersion"] == f"v{mongodb_service.version}"
        assert mongodb_service.mongodb_compat == build_info["version"]
        if mongodb_service.mode == "embedded":
            assert (mongodb_service.version, mongodb_service.storage) == ("1.24.2", "SQLite")
    else:
        assert "ferretdbVersion" not in build_info
        assert (mongodb_service.backend, mongodb_service.version) == ("MongoDB", build_info["version"])
    assert mongodb_service.summary().startswith(f"{mongodb_service.backend} {mongodb_service.version} at ")


# --- UserData -----------------------------------------------------------------------------------------------------


@given("an uploaded dataset", target_fixture="dataset")
def uploaded_dataset(test_user_data):
    return test_user_data


@then("the dataset can be read back with its owner, file location and 5 rows")
def dataset_read_back(dataset, run_async):
    stored = run_async(type(dataset).get(dataset.id))
    assert (stored.user_id, stored.s3_url, stored.num_rows) == (dataset.user_id, dataset.s3_url, 5)
    assert stored.s3_url.startswith("s3://") and stored.filename.endswith(".csv")


@then(parsers.parse("its schema describes the columns {columns}"))
def dataset_schema(dataset, run_async, columns):
    expected = dict(re.findall(r'"(\w+)" as (\w+)', columns))
    stored = run_async(type(dataset).get(dataset.id))
    assert {field.name: field.type for field in stored.data_schema} == expected
    assert stored.num_columns == len(expected)


@when("the dataset's description is changed")
def change_description(dataset, run_async):
    run_async(dataset.set({"metadata.description": DESCRIPTION}))


@then("the stored dataset shows the new description")
def description_stored(dataset, run_async):
    stored = run_async(type(dataset).get(dataset.id))
    assert stored.metadata["description"] == DESCRIPTION
    assert stored.metadata["content_type"] == "text/csv", "the rest of the metadata must be kept"


@when("the uploaded dataset is deleted")
def delete_dataset(dataset, run_async):
    run_async(dataset.delete())


@then("the uploaded dataset can no longer be found")
def dataset_gone(dataset, run_async):
    assert run_async(type(dataset).get(dataset.id)) is None
    assert run_async(type(dataset).count()) == 0


# --- TrainedModel ---------------------------------------------------------------------------------------------------


@given("a model trained on the uploaded dataset", target_fixture="trained_model")
def trained_model(test_trained_model):
    return test_trained_model


@then("the model's dataset resolves to the uploaded dataset")
def model_dataset_resolves(trained_model, test_user_data, run_async):
    stored = run_async(type(trained_model).get(trained_model.id))
    resolved = run_async(stored.dataset.fetch())  # a Link until it is fetched
    assert type(resolved) is type(test_user_data)
    assert (resolved.id, resolved.filename) == (test_user_data.id, test_user_data.filename)
    run_async(stored.fetch_link("dataset"))
    assert stored.dataset.id == test_user_data.id


@then("the model is stored with camelCase field names:")
def model_camel_case(trained_model, test_user_data, database, run_async, datatable):
    raw = run_async(database[type(trained_model).get_collection_name()].find_one({"_id": trained_model.id}))
    expected = [row[0] for row in datatable[1:]]
    assert set(expected) <= set(raw), f"missing camelCase keys: {set(expected) - set(raw)}"
    assert not [key for key in raw if "_" in key.strip("_")], f"snake_case keys stored: {sorted(raw)}"
    assert raw["dataset"] == test_user_data.id, "the link is stored as the dataset's _id"


@then("the models trained on the uploaded dataset can be listed")
def models_of_dataset(trained_model, test_user_data, run_async):
    found = run_async(type(trained_model).trained_on(test_user_data).to_list())
    assert [model.id for model in found] == [trained_model.id]


# --- BatchJob ------------------------------------------------------------------------------------------------------


@given("a pending batch job", target_fixture="job")
def pending_job(test_batch_job):
    assert (test_batch_job.status.value, test_batch_job.progress) == ("pending", 0)
    return test_batch_job


@when("a worker takes the next pending job", target_fixture="job")
def worker_takes_job(job, run_async):
    claimed = run_async(type(job).claim_next("worker-1"))
    assert claimed is not None and claimed.id == job.id
    return claimed


@then("the job is running for that worker and has a start time")
def job_running(job, run_async):
    stored = run_async(type(job).get(job.id))
    assert (stored.status.value, stored.worker_id) == ("running", "worker-1")
    assert stored.started_at is not None and stored.started_at >= stored.created_at


@when(parsers.parse("the worker reports {percent:d} percent done"))
def report_progress(job, run_async, percent):
    run_async(job.report_progress(percent))


@then(parsers.parse('the job is stored as "{status}" at {percent:d} percent'))
def job_state(job, run_async, status, percent):
    stored = run_async(type(job).get(job.id))
    assert (stored.status.value, stored.progress) == (status, percent)


@when("the worker completes the job")
def complete_job(job, run_async):
    run_async(job.complete({"accuracy": 0.92}))


@then("the job cannot be started again")
def job_final(job, run_async):
    from narrative_fixtures.models import InvalidTransition

    stored = run_async(type(job).get(job.id))
    assert stored.completed_at is not None and stored.completed_at >= stored.started_at
    with pytest.raises(InvalidTransition):
        run_async(stored.move_to("running"))
    assert run_async(type(job).claim_next("worker-2")) is None
    assert run_async(type(job).get(job.id)).status.value == "completed"


@given(parsers.parse("{count:d} pending batch jobs"), target_fixture="jobs")
def many_pending_jobs(setup_database, beanie_document_models, run_async, count):
    jobs = [_new_batch_job(beanie_document_models, params={"n": n}) for n in range(count)]
    for job in jobs:
        run_async(job.insert())
    return jobs


@when(parsers.parse("{workers:d} workers take jobs at the same time until none is left"), target_fixture="taken")
def workers_race(jobs, run_async, workers):
    job_class = type(jobs[0])

    async def work(name: str) -> list:
        taken = []
        while (job := await job_class.claim_next(name)) is not None:
            taken.append(job.id)
        return taken

    async def race() -> dict[str, list]:
        names = [f"worker-{n}" for n in range(workers)]
        return dict(zip(names, await asyncio.gather(*(work(name) for name in names))))

    return run_async(race())


@then("every job was taken by exactly one worker")
def taken_once(jobs, taken, run_async):
    counts = Counter(job_id for ids in taken.values() for job_id in ids)
    assert sorted(counts.values()) == [1] * len(jobs), f"jobs taken more than once: {counts.most_common(3)}"
    assert set(counts) == {job.id for job in jobs}
    owner = {job_id: worker for worker, ids in taken.items() for job_id in ids}
    for job in jobs:
        assert run_async(type(job).get(job.id)).worker_id == owner[job.id]


@then(parsers.parse("all {count:d} jobs are running"))
def all_running(jobs, run_async, count):
    job_class = type(jobs[0])
    assert run_async(job_class.find({"status": "running"}).count()) == count == len(jobs)


# --- isolation ------------------------------------------------------------------------------------------------------

ISOLATION_TESTS = '''
import pytest
from narrative_fixtures.models import BatchJob


@pytest.mark.asyncio
async def test_one_stores(setup_database, test_user_data, test_trained_model):
    await BatchJob(job_type="export", user_id="someone").insert()  # no fixture will delete this one
    await setup_database["scratch"].insert_one({"left": "behind"})
    names = [name for name in await setup_database.list_collection_names() if name != "narrative_fixtures_claim"]
    counts = {name: await setup_database[name].count_documents({}) for name in names}
    expected = {"user_data": 1, "trained_models": 1, "batch_jobs": 1, "scratch": 1}
    assert {name: n for name, n in counts.items() if n} == expected


@pytest.mark.asyncio
async def test_two_sees_nothing(setup_database):
    names = await setup_database.list_collection_names()
    assert "scratch" in names  # the collections are still there, emptied
    for name in names:
        if name != "narrative_fixtures_claim":  # the run's claim on the (external) database
            assert await setup_database[name].count_documents({}) == 0, name
'''


@then("a test that stores documents leaves nothing behind for the test after it")
def isolation(pytester: pytest.Pytester, mongodb_service, mongo_client, run_async):
    # Two ordinary pytest-asyncio tests of "another project", run in order on this run's MongoDB server.
    database = f"isolation_{mongodb_service.database}"  # a test name: its last word is "test"
    result = run_nested(
        pytester, ISOLATION_TESTS, TEST_MONGODB_URI=mongodb_service.url, TEST_MONGODB_MODE="external",
        TEST_MONGODB_DB=database, TEST_MONGODB_ALLOW_UNSAFE=None, TEST_MONGODB_MODELS=None,
        PYTEST_XDIST_WORKER=None,  # the nested run is no xdist worker: it uses exactly the database named here
    )
    result.assert_outcomes(passed=2)
    assert sum(run_async(_counts(mongo_client[database])).values()) == 0, "the last test's documents were left"
    run_async(mongo_client.drop_database(database))


# --- full CRUD cycle ------------------------------------------------------------------------------------------------

KINDS = {"dataset": "UserData", "trained model": "TrainedModel", "batch job": "BatchJob"}
UPDATES = {
    "dataset": {"num_rows": 6, "metadata.rows_appended": 1},
    "trained model": {"performanceMetrics.accuracy": 0.95, "isActive": False},
    "batch job": {"status": "cancelled"},
}


def _comparable(document) -> dict:
    data = document.model_dump(exclude={"revision_id", "dataset"})
    if "dataset" in type(document).model_fields:
        data["dataset"] = document.dataset.id if hasattr(document.dataset, "id") else document.dataset.ref.id
    return data


@when(parsers.re(r"a (?P<kind>dataset|trained model|batch job) is created"), target_fixture="document")
def create_document(beanie_document_models, run_async, kind):
    if kind == "trained model":
        dataset = _new_dataset(beanie_document_models)
        run_async(dataset.insert())
        document = _new_trained_model(beanie_document_models, dataset)
    elif kind == "dataset":
        document = _new_dataset(beanie_document_models)
    else:
        document = _new_batch_job(beanie_document_models)
    assert type(document).__name__ == KINDS[kind]
    run_async(document.insert())
    return document


@then(parsers.re(r"the (?P<kind>dataset|trained model|batch job) can be read back as it was stored"))
def read_document(document, run_async, kind):
    stored = run_async(type(document).get(document.id))
    assert _comparable(stored) == _comparable(document)


@when(parsers.re(r"the (?P<kind>dataset|trained model|batch job) is updated"))
def update_document(document, run_async, kind):
    run_async(document.set(UPDATES[kind]))


@then(parsers.re(r"the (?P<kind>dataset|trained model|batch job) shows the update when read again"))
def updated_document(document, database, run_async, kind):
    raw = run_async(database[type(document).get_collection_name()].find_one({"_id": document.id}))
    for path, value in UPDATES[kind].items():
        stored = raw
        for part in path.split("."):
            stored = stored[part]
        assert stored == value, f"{path}: {stored!r} != {value!r}"


@when(parsers.re(r"the (?P<kind>dataset|trained model|batch job) is deleted"))
def delete_document(document, run_async, kind):
    run_async(document.delete())


@then(parsers.re(r"no (?P<kind>dataset|trained model|batch job) is left in the database"))
def document_gone(document, run_async, kind):
    assert run_async(type(document).get(document.id)) is None
    assert run_async(type(document).count()) == 0


# --- queries --------------------------------------------------------------------------------------------------------


@given("these uploaded datasets:", target_fixture="datasets")
def these_datasets(beanie_document_models, run_async, datatable):
    header, *rows = datatable
    datasets = []
    for row in rows:
        record = dict(zip(header, row))
        dataset = _new_dataset(
            beanie_document_models, filename=record["file"], num_rows=int(record["rows"]),
            metadata={"category": record["category"]},
        )
        run_async(dataset.insert())
        datasets.append(dataset)
    return datasets


def _user_data(models):
    return _model(models, "UserData")


@then(parsers.parse('the datasets in category "{category}" are {files}'))
def filter_by_category(beanie_document_models, run_async, category, files):
    query = _user_data(beanie_document_models).find({"metadata.category": category}).sort("filename")
    found = run_async(query.to_list())
    assert [dataset.filename for dataset in found] == _quoted(files)


@then("sorted by rows, largest first, the datasets are:")
def sorted_by_rows(beanie_document_models, run_async, datatable):
    user_data = _user_data(beanie_document_models)
    found = run_async(user_data.find_all().sort(-user_data.num_rows).to_list())
    assert [dataset.filename for dataset in found] == [row[0] for row in datatable[1:]]


@then(parsers.parse("{count:d} datasets have at least {rows:d} rows"))
def count_large(beanie_document_models, run_async, count, rows):
    user_data = _user_data(beanie_document_models)
    assert run_async(user_data.find(user_data.num_rows >= rows).count()) == count


@then("per category, the datasets and their rows add up to:")
def summary_by_category(beanie_document_models, run_async, datatable):
    user_data = _user_data(beanie_document_models)

    async def per_category(amount) -> dict[str, int]:
        # One accumulator per $group: FerretDB 1.24 hands every accumulator after the first an exhausted group
        # (so it sums to 0); see docs/ferretdb-notes.md. Two pipelines give the right answer on both servers.
        pipeline = [{"$group": {"_id": "$metadata.category", "total": {"$sum": amount}}}, {"$sort": {"_id": 1}}]
        return {row["_id"]: row["total"] for row in await user_data.aggregate(pipeline).to_list()}

    datasets, rows = run_async(per_category(1)), run_async(per_category("$num_rows"))
    header, *expected = datatable
    assert [[category, str(datasets[category]), str(rows[category])] for category in datasets] == expected


# --- fixtures together ----------------------------------------------------------------------------------------------


@when("the job is pointed at the trained model and completed with its accuracy")
def train_with_job(job, trained_model, run_async):
    run_async(job.set({"params.model_id": str(trained_model.id)}))
    claimed = run_async(type(job).claim_next("trainer"))
    assert claimed is not None and claimed.id == job.id
    run_async(claimed.report_progress(50))
    run_async(claimed.complete({"model_id": str(trained_model.id),
                                "accuracy": trained_model.performance_metrics["accuracy"]}))


@then("the database holds exactly 1 dataset, 1 trained model and 1 batch job")
def one_of_each(dataset, trained_model, job, run_async):
    for document in (dataset, trained_model, job):
        assert run_async(type(document).count()) == 1, type(document).__name__


@then("the dataset, the model and the job all belong to the same user")
def same_user(dataset, trained_model, job, run_async):
    owners = {run_async(type(doc).get(doc.id)).user_id for doc in (dataset, trained_model, job)}
    assert owners == {dataset.user_id}


@then("the completed job's result names the model, whose dataset is the uploaded dataset")
def result_names_model(dataset, trained_model, job, run_async):
    stored_job = run_async(type(job).get(job.id))
    assert (stored_job.status.value, stored_job.params["model_id"]) == ("completed", str(trained_model.id))
    model = run_async(type(trained_model).get(stored_job.result["model_id"]))
    assert stored_job.result["accuracy"] == model.performance_metrics["accuracy"]
    assert run_async(model.dataset.fetch()).id == dataset.id
