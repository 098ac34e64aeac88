"""The registered Beanie documents and the story's sample data, called directly: how ``TEST_MONGODB_MODELS`` and a
factory's ``models=`` are read, the one line a bad name gets, and what the sample documents hold. Found unchecked
outside nested runs by the mutation run (docs/mutation.md)."""

from __future__ import annotations

import types

import pytest

from narrative_fixtures.errors import ConfigError
from narrative_fixtures.models import BatchJob, TrainedModel, UserData
from narrative_fixtures.services.mongodb.documents import (
    MODELS_SETTING, load_models, registered_model, resolve_models, sample_batch_job, sample_trained_model,
    sample_user_data,
)


@pytest.mark.parametrize("spec", [None, "", " ,  "])
def test_no_models_named_means_the_storys_three(spec):
    assert load_models(spec) == [UserData, TrainedModel, BatchJob]


def test_models_are_separated_by_commas_or_whitespace_in_the_order_given():
    spec = "narrative_fixtures.models:BatchJob,narrative_fixtures.models:UserData\n\tnarrative_fixtures.models:TrainedModel"
    assert load_models(spec) == [BatchJob, UserData, TrainedModel]


def test_a_name_without_a_class_is_refused_naming_the_setting():
    with pytest.raises(ConfigError) as refused:
        load_models("narrative_fixtures.models")
    assert str(refused.value) == f"{MODELS_SETTING}: 'narrative_fixtures.models' is not 'module:Class'"


@pytest.mark.parametrize("name, reason", [
    ("no_such_module_xyz:Model", "No module named 'no_such_module_xyz'"),
    ("narrative_fixtures.models:NoSuchModel", "has no attribute 'NoSuchModel'"),
])
def test_a_name_that_cannot_be_imported_is_one_line_naming_the_setting(name, reason):
    with pytest.raises(ConfigError) as refused:
        load_models(name, setting="database_factory('orders', models=...)")
    message = str(refused.value)
    assert message.startswith(f"database_factory('orders', models=...): cannot import {name!r} (")
    assert reason in message
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_a_factorys_models_mix_classes_and_names_and_an_empty_list_registers_nothing():
    assert resolve_models([UserData, "narrative_fixtures.models:BatchJob"], "models=") == [UserData, BatchJob]
    assert resolve_models([], "models=") == []
    with pytest.raises(ConfigError, match=r"^models=: 'nothing' is not 'module:Class'$"):
        resolve_models(["nothing"], "models=")


def test_the_registered_class_of_a_name_is_found_and_a_missing_one_fails_in_one_line():
    assert registered_model([UserData, BatchJob], "BatchJob", "test_batch_job") is BatchJob
    with pytest.raises(pytest.fail.Exception) as failed:
        registered_model([UserData, BatchJob], "TrainedModel", "test_trained_model")
    assert str(failed.value) == (
        "test_trained_model needs a Beanie document named TrainedModel among the registered models (UserData,"
        f" BatchJob); register one ({MODELS_SETTING}) or override test_trained_model")
    assert failed.value.pytrace is False


# The sample documents are public: projects' tests read them through test_user_data, test_trained_model and
# test_batch_job (the story's realistic data), so every value is part of what the fixtures promise.

def test_the_sample_dataset_is_a_5_row_upload_with_its_schema_and_file_metadata():
    assert sample_user_data() == {
        "user_id": "test_user_123",
        "filename": "test_dataset_5f2c.csv",
        "original_filename": "sales_q3.csv",
        "s3_url": "s3://test-narrative-bucket/test-data/test_file.csv",
        "num_rows": 5,
        "num_columns": 3,
        "data_schema": [
            {"name": "id", "type": "integer", "nullable": False, "sample_values": [1, 2, 3]},
            {"name": "value", "type": "float", "nullable": False, "sample_values": [10.5, 20.25, 30.0]},
            {"name": "category", "type": "string", "nullable": False, "sample_values": ["A", "B", "A"]},
        ],
        "metadata": {"source": "upload", "content_type": "text/csv", "size_bytes": 72, "delimiter": ",",
                     "encoding": "utf-8"},
    }
    assert sample_user_data() is not sample_user_data()  # a fresh dict each time: a test may change its copy
    assert sample_user_data()["num_columns"] == len(sample_user_data()["data_schema"])


def test_the_sample_model_is_a_random_forest_on_the_datasets_category_by_the_datasets_owner():
    dataset = types.SimpleNamespace(user_id="owner_42")  # what it reads of the stored dataset
    assert sample_trained_model(dataset) == dict(
        user_id="owner_42", name="Test Random Forest", model_type="random_forest", target_column="category",
        feature_columns=["id", "value"], hyperparameters={"n_estimators": 100, "max_depth": 10, "random_state": 42},
        performance_metrics={"accuracy": 0.92, "precision": 0.9, "recall": 0.89, "f1_score": 0.895},
        dataset=dataset,
    )


def test_the_sample_job_is_a_model_training_for_the_sample_user():
    assert sample_batch_job() == dict(job_type="model_training", user_id="test_user_123",
                                      params={"model_type": "random_forest", "target_column": "category"})
