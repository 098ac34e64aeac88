"""The team's CI workflow (.github/workflows/acceptance.yml): valid for actionlint, and reaching the same test
services as docker-compose.test.yml and the plugin's settings (a drifted port or credential fails here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from narrative_fixtures.services.common import settings_of
from tests.ci.workflow_consistency import COMPOSE, ROOT, WORKFLOW, drifts, load, shard_counts

ACTIONLINT_VERSION = "v1.7.12"  # .ci/build-actionlint builds this one


@pytest.fixture(scope="module")
def actionlint(request) -> Path:
    """The actionlint binary .ci/build-actionlint built into the binary cache (or one on PATH); missing: skipped,
    and failed under --require-services (CI must check the workflow)."""
    settings = settings_of(request.config)
    built = settings.cache_dir / "actionlint" / ACTIONLINT_VERSION / "actionlint"
    found = built if os.access(built, os.X_OK) else shutil.which("actionlint")
    if found is None:
        message = f"actionlint is not built at {built}: run bash .ci/build-actionlint (Go from the module proxy)"
        if settings.require_services:
            pytest.fail(message + " [strict mode: --require-services]", pytrace=False)
        pytest.skip(message)
    return Path(found)


def run_actionlint(binary: Path, workflow: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), "-no-color", "-oneline", str(workflow)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_actionlint_accepts_the_workflow(actionlint):
    done = run_actionlint(actionlint, WORKFLOW, ROOT)  # from the root: ./.github/actions/prepare is checked too
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_actionlint_would_catch_a_broken_workflow(actionlint, tmp_path):
    """The check is not vacuous: a copy with a misspelt runner and an undefined matrix key is rejected."""
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    broken = tmp_path / ".github" / "workflows" / "acceptance.yml"
    text = broken.read_text()
    broken.write_text(text.replace("runs-on: ubuntu-24.04", "runs-on: ubuntu-24.4", 1)
                      .replace("${{ matrix.shard }}/3", "${{ matrix.shards }}/3", 1))
    done = run_actionlint(actionlint, broken, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'label "ubuntu-24.4" is unknown' in done.stdout
    assert 'property "shards" is not defined' in done.stdout


def test_the_workflow_agrees_with_the_compose_file_and_the_plugins_settings():
    assert drifts(load(WORKFLOW), load(COMPOSE)) == []


def test_every_shard_of_the_matrix_runs_strict_on_its_own_part():
    [(job, shards, argument)] = shard_counts(load(WORKFLOW))
    assert shards == list(range(1, len(shards) + 1)), f"{job}: shards {shards} are not 1..N"
    assert argument == f"${{{{ matrix.shard }}}}/{len(shards)}", f"{job} runs --shard {argument}"
    for name, job_spec in load(WORKFLOW)["jobs"].items():
        runs = " ".join(str(step.get("run") or "") for step in job_spec.get("steps") or [])
        if "acceptance-job" in runs:
            assert "--require-services" in runs, f"{name} runs the acceptance job without --require-services"


# One edit each, made to a copy of the workflow (or of the compose file): the drift it must be reported as.
WORKFLOW_EDITS = {
    "mongodb port": ('- "27018:27017"', '- "27019:27017"', "mongodb-test: ports [(27019, 27017)] differ"),
    "mongodb root password": ("MONGO_INITDB_ROOT_PASSWORD: test_password", "MONGO_INITDB_ROOT_PASSWORD: other",
                              "mongodb-test: MONGO_INITDB_ROOT_PASSWORD differs from the compose file's"),
    "mongodb image": ("image: mongo:7.0", "image: mongo:6.0", "mongodb-test: image mongo:6.0 differs"),
    "URI password": ("@localhost:27018", "x@localhost:27018", "TEST_MONGODB_URI (password) differs from"),
    "URI port": ("test_password@localhost:27018", "test_password@localhost:27017",
                 "TEST_MONGODB_URI (port) differs from mongodb-test's published port"),
    "redis password": ("redis://:test_redis_password@", "redis://:changed@",
                       "TEST_REDIS_URL (password) differs from redis-test's --requirepass"),
    "job's S3 secret": ("AWS_SECRET_ACCESS_KEY: test_secret_key\n      AWS_DEFAULT_REGION: us-east-1\n    steps:",
                        "AWS_SECRET_ACCESS_KEY: other_secret\n      AWS_DEFAULT_REGION: us-east-1\n    steps:",
                          "AWS_SECRET_ACCESS_KEY differs from localstack's AWS_SECRET_ACCESS_KEY"),
    "localstack port": ('- "4566:4566"', '- "4567:4566"', "localstack: ports [(4567, 4566)] differ"),
    "misspelt variable": ("TEST_REDIS_URL:", "TEST_REDIS_URI:", "TEST_REDIS_URI is not a setting of the plugin"),
    "redis password applied": ("CONFIG SET requirepass test_redis_password", "CONFIG SET requirepass changed",
                               "redis-test: requirepass differs from the compose command's --requirepass"),
    "redis option not applied": (" appendonly yes", "",
                                 "redis-test: the compose command's --appendonly is not applied"),
    "redis port": ('- "6380:6379"', '- "6379:6379"', "redis-test: ports [(6379, 6379)] differ"),
    "redis container": ("      redis-test:\n        image: redis:7-alpine",
                        "      redis:\n        image: redis:7-alpine",
                        "compose service redis-test has no service container"),
}


@pytest.mark.parametrize("edit", WORKFLOW_EDITS.values(), ids=WORKFLOW_EDITS.keys())
def test_a_drifted_copy_of_the_workflow_is_reported(tmp_path, edit):
    before, after, reported = edit
    text = WORKFLOW.read_text()
    assert before in text, f"the edit's anchor {before!r} is no longer in the workflow"
    copy = tmp_path / "acceptance.yml"
    copy.write_text(text.replace(before, after, 1))
    problems = drifts(load(copy), load(COMPOSE))
    assert any(reported in problem for problem in problems), problems
    assert not [problem for problem in problems if "other" in problem or "changed" in problem], "a value printed"


def test_a_drifted_copy_of_the_compose_file_is_reported_too(tmp_path):
    copy = tmp_path / "docker-compose.test.yml"
    copy.write_text(COMPOSE.read_text().replace('"6380:6379"', '"6381:6379"').replace(
        "AWS_ACCESS_KEY_ID: test_access_key", "AWS_ACCESS_KEY_ID: another_key"))
    problems = drifts(load(WORKFLOW), load(copy))
    assert "job external: TEST_REDIS_URL (port) differs from redis-test's published port" in problems
    assert "localstack: AWS_ACCESS_KEY_ID differs from the compose file's" in problems
    assert "job external: AWS_ACCESS_KEY_ID differs from localstack's AWS_ACCESS_KEY_ID" in problems


def _steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job.get("steps") or [] if str(step.get("uses", "")).startswith(action + "@")]


def test_the_merge_takes_the_reports_of_every_run_it_waits_for():
    import fnmatch

    jobs = load(WORKFLOW)["jobs"]
    [(merge_name, merge)] = [(name, job) for name, job in jobs.items()
                             if any(".ci/merge-job" in str(step.get("run", "")) for step in job["steps"])]
    [download] = _steps_using(merge, "actions/download-artifact")
    pattern = download["with"]["pattern"]
    merged = {name for name, job in jobs.items() for step in _steps_using(job, "actions/upload-artifact")
              if fnmatch.fnmatch(step["with"]["name"].split("$")[0] + "x", pattern)}
    assert merged == {"embedded", "external"}, f"{merge_name} merges the reports of {sorted(merged)}"
    assert set(merge["needs"]) == merged and merge["if"] == "${{ !cancelled() }}", "a failed run is merged too"
    for name in merged:
        for step in _steps_using(jobs[name], "actions/upload-artifact"):
            assert step["if"] == "always()" and step["with"]["include-hidden-files"] == "true", f"{name}: .coverage"


def test_each_cache_is_restored_from_the_path_it_is_saved_under():
    """actions/cache finds an entry only under the paths it was saved with: a restore elsewhere always misses."""
    jobs = load(WORKFLOW)["jobs"]
    saved = {step["with"]["key"].split("${{")[0]: step["with"]["path"]
             for job in jobs.values() for step in _steps_using(job, "actions/cache/save")}
    restored = {step["with"]["key"].split("${{")[0]: step["with"]["path"]
                for job in jobs.values() for step in _steps_using(job, "actions/cache/restore")}
    assert set(saved) == set(restored) == {"allure-history-", "test-durations-"}
    assert restored == saved


@pytest.mark.parametrize("strict", [False, True], ids=["skipped", "failed-under-require-services"])
def test_a_missing_actionlint_is_skipped_or_in_strict_mode_failed(tmp_path, strict):
    """Run as CI runs it (.ci/run is strict): without the binary the check fails, naming the script that builds it."""
    env = {**os.environ, "NARRATIVE_CACHE_DIR": str(tmp_path / "cache"), "NARRATIVE_REPORTS_DIR": str(tmp_path),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin"}
    env.pop("TEST_REQUIRE_SERVICES", None)
    test = f"{Path(__file__).relative_to(ROOT)}::test_actionlint_accepts_the_workflow"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", test, "-p", "no:randomly", "-p", "no:cacheprovider", "-rs", "-q",
         *(["--require-services"] if strict else [])],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == (1 if strict else 0), done.stdout[-2000:]
    assert ("1 error" if strict else "1 skipped") in done.stdout
    assert f"actionlint is not built at {tmp_path}/cache/actionlint/{ACTIONLINT_VERSION}/actionlint: run bash" \
           " .ci/build-actionlint" in done.stdout.replace("\n", "")
