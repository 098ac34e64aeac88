"""The S3 endpoint's variables for an app under test and for another run of the plugin, called directly: the
mutation run found them read only by nested runs (every variable and its value unchecked in the test process)."""

from __future__ import annotations

from narrative_fixtures.services.s3.endpoint import S3Endpoint

URL = "http://127.0.0.1:9"  # nothing is sent: the variables are built from the fields


def _endpoint() -> S3Endpoint:
    return S3Endpoint(
        "s3", "external", URL, "LocalStack", "3", region="eu-west-3", bucket="test-narrative-bucket-run1",
        access_key_id="AKIAEXAMPLEKEYID", secret_access_key="the-secret-access-key",
    )


def test_an_app_under_test_gets_the_url_the_key_pair_both_region_names_and_the_bucket():
    assert dict(_endpoint().environment()) == {
        "S3_ENDPOINT_URL": URL,
        "AWS_ENDPOINT_URL_S3": URL,
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEYID",
        "AWS_SECRET_ACCESS_KEY": "the-secret-access-key",
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_REGION": "eu-west-3",
        "S3_BUCKET": "test-narrative-bucket-run1",
    }


def test_another_run_of_the_plugin_gets_the_s3_settings_only():
    assert dict(_endpoint().settings_environment()) == {
        "S3_ENDPOINT_URL": URL,
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEYID",
        "AWS_SECRET_ACCESS_KEY": "the-secret-access-key",
        "AWS_DEFAULT_REGION": "eu-west-3",
    }


def test_the_variables_repr_masks_the_secret_key():
    endpoint = _endpoint()
    for variables in (endpoint.environment(), endpoint.settings_environment()):
        assert "the-secret-access-key" not in repr(variables)
