"""A service from another package (the echo service of ``installed/``, registered through the entry-point group
``narrative_fixtures.services``) gets what the built-in ones get, with no edit to this project: options, ini keys,
environment variables, modes, its header line, the "services used" summary and a row in the sign-off.

Skipping when unreachable, strict failure and the off mode are proven for it by ``tests/core/test_service_contract.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from narrative_fixtures.core.network import free_port, port_accepts
from narrative_fixtures.core.readiness import poll_until

from . import SITE, install

ROOT = Path(__file__).resolve().parents[2]

SAYS = """
def test_says(echo_client):
    assert echo_client.say("hello") == {expected!r}
"""

FEATURE = """
Feature: An echo service from another package
  Scenario: The echo server returns a line
    Given the run's echo server
    Then it returns "hello"
"""

FEATURE_STEPS = """
from pytest_bdd import given, parsers, scenarios, then

scenarios("echo.feature")


@given("the run's echo server", target_fixture="echo")
def echo(echo_client):
    return echo_client


@then(parsers.parse('it returns "{line}"'))
def returns(echo, line):
    assert echo.say(line) == line
"""


@pytest.fixture
def echo_project(project: pytest.Pytester) -> pytest.Pytester:
    install(project)
    return project


def test_the_echo_service_gets_its_options_ini_keys_and_environment_variables(echo_project):
    result = echo_project.runpytest_subprocess("--help")
    help_text = re.sub(r"\s+", " ", result.stdout.str())
    assert "--echo-mode={embedded,external,off}" in help_text
    assert "external (use TEST_ECHO_URL) or off [env TEST_ECHO_MODE]" in help_text
    assert "--echo-url=ECHO_URL echo server used in external mode [env TEST_ECHO_URL]" in help_text
    assert "--echo-prefix=ECHO_PREFIX" in help_text and "[env TEST_ECHO_PREFIX]" in help_text
    assert "echo_prefix (string):" in help_text and "echo_mode (string):" in help_text


@pytest.mark.parametrize(
    "given, expected",
    [((), "ini:"), (("env",), "env:"), (("env", "option"), "option:")],
    ids=["ini", "env over ini", "option over env"],
)
def test_an_embedded_echo_server_reads_its_setting_by_precedence_and_is_reported(echo_project, given, expected):
    echo_project.makeini("[pytest]\necho_prefix = ini:\nservices_log_dir = reports/services\n")
    if "env" in given:
        echo_project._monkeypatch.setenv("TEST_ECHO_PREFIX", "env:")
    args = ["--echo-prefix", "option:"] if "option" in given else []
    echo_project.makepyfile(SAYS.format(expected=expected + "hello"))
    result = echo_project.runpytest_subprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "  echo: mode=embedded (default), narrative-echo (a Python subprocess)",
        "*narrative services used*",
        "echo: narrative-echo 0.1 at echo://127.0.0.1:* (embedded, ready in *s)",
    ])  # fmt: skip
    assert list((echo_project.path / "reports" / "services").glob("run-*/echo.log")), "its log beside the others"


@pytest.fixture
def external_echo_server():
    """An echo server this test runs itself (as someone else's would be), prefixing with ``ext:``."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(SITE / "narrative_echo" / "server.py"), str(port), "ext:"], stdout=subprocess.DEVNULL
    )
    poll_until(lambda: port_accepts("127.0.0.1", port), deadline=time.perf_counter() + 10)
    yield f"echo://127.0.0.1:{port}"
    server.kill()
    server.wait()


def test_setting_its_connection_variable_means_external_mode(echo_project, external_echo_server):
    echo_project._monkeypatch.setenv("TEST_ECHO_URL", external_echo_server)
    echo_project.makepyfile(SAYS.format(expected="ext:hello"))
    result = echo_project.runpytest_subprocess("-p", "no:cacheprovider", "--require-services")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        f"  echo: mode=external (env TEST_ECHO_URL is set), url={external_echo_server}, prefix=",
        f"echo: narrative-echo 0.1 at {external_echo_server} (external)",
    ])  # fmt: skip


def test_the_signoff_lists_the_echo_service(echo_project):
    echo_project._monkeypatch.delenv("NARRATIVE_SIGNOFF_RUN", raising=False)  # a run of its own, which writes
    echo_project.makefile(".feature", echo=FEATURE)
    echo_project.makepyfile(test_echo_feature=FEATURE_STEPS)
    result = echo_project.runpytest_subprocess("-p", "no:cacheprovider", "-p", "narrative_fixtures.signoff.plugin")
    result.assert_outcomes(passed=1)
    reports = echo_project.path / "reports"
    (service,) = [s for s in json.loads((reports / "run.json").read_text())["services"] if s["name"] == "echo"]
    assert (service["status"], service["mode"], service["backend"], service["version"]) == (
        "used", "embedded", "narrative-echo", "0.1"
    )
    rows = [line for line in (reports / "signoff.md").read_text().splitlines() if line.startswith("| echo |")]
    assert rows and "| used | embedded | narrative-echo | 0.1 | echo://127.0.0.1:" in rows[0], rows


# What would name the echo service: its package, variables, fixtures and options (the word "echo" alone is a shell
# command, used by the project's scripts). The project is everything but its tests (a unit test may borrow the name
# for a made-up package).
NAMES_IT = re.compile(r"narrative[-_]echo|TEST_ECHO_|echo_(service|client|prefix|url|mode)|--echo-")


def test_no_file_of_the_project_names_the_echo_service():
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode().split("\0")
    naming = []
    for name in filter(None, listed):
        path = ROOT / name
        if name.startswith("tests/extension/") or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if NAMES_IT.search(text):
            naming.append(name)
    assert not naming, f"files of the project name the echo service: {naming}"
