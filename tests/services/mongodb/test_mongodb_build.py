"""Building FerretDB into the binary cache, with a stand-in `go` so the logic runs in seconds, not minutes.

The real build (88 s with an empty Go cache) runs in `.ci/install` on every fresh machine; these tests cover what
the plugin does around it: reuse, rebuild of a binary that does not run, progress, failures named in one line.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from narrative_fixtures.errors import ServiceUnavailable
from narrative_fixtures.services import mongodb

FAKE_GO = """#!{python}
import json, os, sys, time
from pathlib import Path

args = sys.argv[1:]
if os.environ.get("FAKE_GO_RECORD"):
    with open(os.environ["FAKE_GO_RECORD"], "a") as record:
        seen = {{name: os.environ.get(name) for name in ("GOWORK", "GOFLAGS", "FAKE_GO_MODCACHE")}}
        package = Path("build/version/package.txt")
        seen["package"] = package.read_text() if package.exists() else None
        record.write(json.dumps({{"args": args, "cwd": os.getcwd(), **seen}}) + "\\n")
if args[:2] == ["mod", "download"]:
    if args[2] != "-json":
        print("go: the source's folder is named only with -json", file=sys.stderr)
        sys.exit(1)
    if os.environ.get("FAKE_GO_FAIL") == "download":
        print("go: module lookup disabled", file=sys.stderr)
        sys.exit(1)
    if os.environ.get("FAKE_GO_FAIL") == "silently":
        sys.exit(1)
    if os.environ.get("FAKE_GO_FAIL") == "nodir":
        print("{{}}")
        sys.exit(0)
    source = Path(os.environ["FAKE_GO_MODCACHE"]) / "ferretdb@v1.24.2"
    (source / "build" / "version").mkdir(parents=True, exist_ok=True)
    (source / "cmd" / "ferretdb").mkdir(parents=True, exist_ok=True)
    (source / "cmd" / "ferretdb" / "main.go").write_text("package main")
    for path in source.rglob("*"):
        path.chmod(path.stat().st_mode & ~0o222)  # the module cache is read-only
    print(json.dumps({{"Path": "github.com/FerretDB/FerretDB", "Dir": str(source)}}))
elif args[0] == "build":
    if not all(path.stat().st_mode & 0o200 for path in Path.cwd().rglob("*")):
        print("open cmd/ferretdb/main.go: permission denied (the copied source is read-only)", file=sys.stderr)
        sys.exit(1)
    out = Path(args[args.index("-o") + 1])
    version = (Path.cwd() / "build" / "version" / "version.txt").read_text().strip()
    for package in ("internal/util", "internal/handler", "cmd/ferretdb"):
        print("github.com/FerretDB/FerretDB/" + package, flush=True)
    sys.stdout.buffer.write(b"# cgo: \\xff not UTF-8\\n")  # a compiler's bytes need not decode
    sys.stdout.flush()
    time.sleep(float(os.environ.get("FAKE_GO_SLEEP", "0")))
    if os.environ.get("FAKE_GO_FAIL") == "build":
        print("compile error", file=sys.stderr)
        sys.exit(2)
    if os.environ.get("FAKE_GO_FAIL") == "badbinary":  # go exits 0, the binary does not run
        version = "v0.0.0"
    out.write_text("#!/bin/sh\\necho 'version: " + version + "'\\n")
    out.chmod(0o755)
"""


@pytest.fixture
def fake_go(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(FAKE_GO.format(python=sys.executable))
    go.chmod(go.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_GO_MODCACHE", str(tmp_path / "modcache"))
    return go


def test_builds_into_the_cache_with_progress_and_reuses_the_binary(tmp_path, fake_go):
    said = []
    binary = mongodb.build_ferretdb(tmp_path / "cache", progress=said.append)
    assert binary == mongodb.ferretdb_binary(tmp_path / "cache")
    assert mongodb.binary_works(binary), "the built binary reports FerretDB's version (version.txt was written)"
    assert said[0].startswith("building FerretDB 1.24.2 with") and said[-1].startswith("FerretDB 1.24.2 built in")
    assert "github.com/FerretDB/FerretDB/cmd/ferretdb" in (binary.parent / "build.log").read_text(errors="replace")
    said.clear()
    assert mongodb.build_ferretdb(tmp_path / "cache", progress=said.append) == binary
    assert said == [f"FerretDB 1.24.2 is built: {binary}"]


class LongCompile(subprocess.Popen):
    """``subprocess.Popen`` whose ``go build`` seems to outlast the build loop's waits: its first two bounded waits
    time out at once (no real wait); the waits' bounds are recorded, and a loop that keeps waiting on a finished
    build fails after 20 waits instead of hanging."""

    bounds: list = []

    def wait(self, timeout=None):
        if "build" not in self.args:
            return super().wait(timeout)
        LongCompile.bounds.append(timeout)
        if len(LongCompile.bounds) > 20:
            raise AssertionError(f"waited {len(LongCompile.bounds)} times on a finished build")
        if len(LongCompile.bounds) <= 2:
            super().wait()  # the log is then complete: the progress counts all of its lines
            raise subprocess.TimeoutExpired(self.args, timeout)
        return super().wait(timeout)


def test_reports_progress_while_a_long_compile_runs(tmp_path, fake_go, monkeypatch):
    monkeypatch.setattr(subprocess, "Popen", LongCompile)
    monkeypatch.setattr(LongCompile, "bounds", [])
    said = []
    mongodb.build_ferretdb(tmp_path / "cache", progress=said.append)
    compiling = [line for line in said if line.startswith("  compiling FerretDB: ~")]
    lines = len(mongodb.ferretdb_binary(tmp_path / "cache").with_name("build.log").read_bytes().splitlines())
    assert len(compiling) == 2 and re.fullmatch(rf"  compiling FerretDB: ~{lines} packages, \d+ s", compiling[0]), said
    assert LongCompile.bounds == [10, 10, 10], "the build loop reports every 10 s while go build runs"
    assert said[-1].startswith("FerretDB 1.24.2 built in")


def test_a_binary_that_does_not_run_is_rebuilt(tmp_path, fake_go):
    binary = mongodb.ferretdb_binary(tmp_path / "cache")
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\nexit 2\n")  # what a plain `go install` produced: panics at start
    binary.chmod(0o755)
    said = []
    mongodb.build_ferretdb(tmp_path / "cache", progress=said.append)
    assert said[0] == f"{binary} does not run as FerretDB 1.24.2; rebuilding it"
    assert mongodb.binary_works(binary)


@pytest.mark.parametrize(("failure", "message"), [("download", "go mod download failed"), ("build", "failed (log: ")])
def test_a_failed_build_is_one_line_naming_the_log(tmp_path, fake_go, monkeypatch, failure, message):
    monkeypatch.setenv("FAKE_GO_FAIL", failure)
    with pytest.raises(ServiceUnavailable) as error:
        mongodb.build_ferretdb(tmp_path / "cache", progress=lambda line: None)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert not mongodb.ferretdb_binary(tmp_path / "cache").exists(), "no half-built binary is left in the cache"


def test_without_go_the_message_says_how_to_get_the_binary(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no go here
    with pytest.raises(ServiceUnavailable, match=r"Go is not installed to build it.*services.mongodb build.*TEST_MONGODB_URI"):
        mongodb.build_ferretdb(tmp_path / "cache", progress=lambda line: None)


def test_the_build_command_uses_the_configured_cache(tmp_path, fake_go, monkeypatch, capsys):
    monkeypatch.setenv("NARRATIVE_CACHE_DIR", str(tmp_path / "custom-cache"))
    assert mongodb.main(["build"]) == 0
    assert mongodb.binary_works(mongodb.ferretdb_binary(tmp_path / "custom-cache"))
    assert "FerretDB 1.24.2 built in" in capsys.readouterr().out
    assert mongodb.main(["rebuild"]) == 2  # anything but "build" is a usage error


def test_go_runs_in_a_private_folder_without_workspaces_or_vcs_stamps(tmp_path, fake_go, monkeypatch):
    monkeypatch.setenv("FAKE_GO_RECORD", str(tmp_path / "calls.jsonl"))
    mongodb.build_ferretdb(tmp_path / "cache", progress=lambda line: None)
    download, build = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert download["args"] == ["mod", "download", "-json", "github.com/FerretDB/FerretDB@v1.24.2"]
    assert build["args"][:4] == ["build", "-v", "-trimpath", "-o"] and build["args"][-1] == "./cmd/ferretdb"
    for call in (download, build):  # the user's environment kept, Go's workspace mode and VCS stamping off
        assert (call["GOWORK"], call["GOFLAGS"], call["FAKE_GO_MODCACHE"]) == (
            "off", "-buildvcs=false", str(tmp_path / "modcache")), call
    assert build["package"] == "source (narrative-acceptance)\n", "FerretDB's version info names this build"
    folder = Path(download["cwd"])
    assert folder.name.startswith(f"narrative-ferretdb_build-p{os.getpid()}-") and Path(build["cwd"]).parent == folder
    assert not folder.exists(), "the private build folder is removed after the build"


def test_a_download_that_names_no_source_folder_is_one_line_naming_the_log(tmp_path, fake_go, monkeypatch):
    monkeypatch.setenv("FAKE_GO_FAIL", "nodir")
    with pytest.raises(ServiceUnavailable) as failed:
        mongodb.build_ferretdb(tmp_path / "cache", progress=lambda line: None)
    log = mongodb.ferretdb_binary(tmp_path / "cache").parent / "build.log"
    assert str(failed.value) == f"could not download the FerretDB 1.24.2 source (log: {log})"


def test_the_prerequisite_probe_says_whether_a_working_binary_is_in_the_cache(tmp_path, fake_go):
    assert mongodb.server.ferretdb_built(tmp_path / "cache") is False
    mongodb.build_ferretdb(tmp_path / "cache", progress=lambda line: None)
    assert mongodb.server.ferretdb_built(tmp_path / "cache") is True


def test_progress_goes_to_stderr_in_one_marked_line(capsys):
    mongodb.server._say("building FerretDB")
    assert capsys.readouterr() == ("", "[narrative-fixtures] building FerretDB\n")


def test_without_go_the_message_ends_with_the_way_around(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceUnavailable) as missing:
        mongodb.build_ferretdb(tmp_path / "cache", progress=lambda line: None)
    assert str(missing.value).endswith(" - or set TEST_MONGODB_URI to use an external MongoDB"), missing.value


@pytest.mark.parametrize("failure, said", [("download", "go: module lookup disabled"), ("silently", "")])
def test_a_failed_download_names_the_command_its_last_word_and_the_log(tmp_path, fake_go, monkeypatch, failure, said):
    monkeypatch.setenv("FAKE_GO_FAIL", failure)
    with pytest.raises(ServiceUnavailable) as failed:
        mongodb.build_ferretdb(tmp_path / "cache", progress=lambda line: None)
    log = mongodb.ferretdb_binary(tmp_path / "cache").parent / "build.log"
    assert str(failed.value) == f"{fake_go} mod download failed: {said} (log: {log})"
    assert log.read_text().startswith(f"$ {fake_go} mod download -json github.com/FerretDB/FerretDB@v1.24.2\n")


def test_go_is_looked_for_and_run_with_the_runs_environment_whatever_the_test_left(tmp_path, fake_go):
    """A first use in a prestart thread, while a test has emptied os.environ: the run's PATH has Go."""
    from unittest import mock

    run_environment = dict(os.environ)  # PATH with the fake go first, and its FAKE_GO_MODCACHE
    with mock.patch.dict(os.environ, clear=True):
        binary = mongodb.build_ferretdb(tmp_path / "cache", progress=lambda line: None, environment=run_environment)
    assert binary == mongodb.ferretdb_binary(tmp_path / "cache") and mongodb.binary_works(binary)
    assert f"$ {fake_go} mod download".encode() in (binary.parent / "build.log").read_bytes()


def test_without_go_the_message_names_the_binary_it_looked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceUnavailable) as missing:
        mongodb.build_ferretdb(tmp_path / "cache", progress=lambda line: None)
    assert f"is not built ({mongodb.ferretdb_binary(tmp_path / 'cache')}) and Go" in str(missing.value)


def test_a_binary_another_process_built_meanwhile_is_used(tmp_path, fake_go, monkeypatch):
    from narrative_fixtures.services.mongodb import server

    answers = iter([False, True])  # not there when asked first, there once the build lock is held
    monkeypatch.setattr(server, "binary_works", lambda binary: next(answers))
    said = []
    binary = mongodb.build_ferretdb(tmp_path / "cache", progress=said.append)
    assert said == [f"FerretDB 1.24.2 was built by another process: {binary}"]
    assert not (tmp_path / "modcache").exists(), "nothing was downloaded or built"


def test_a_build_whose_binary_does_not_run_fails_and_keeps_the_compiler_s_words(tmp_path, fake_go, monkeypatch):
    monkeypatch.setenv("FAKE_GO_FAIL", "badbinary")
    with pytest.raises(ServiceUnavailable) as failed:
        mongodb.build_ferretdb(tmp_path / "cache", progress=lambda line: None)
    log = mongodb.ferretdb_binary(tmp_path / "cache").parent / "build.log"
    assert str(failed.value) == f"building FerretDB 1.24.2 failed (log: {log})"
    assert not mongodb.ferretdb_binary(tmp_path / "cache").exists(), "a binary that does not run is not installed"


def test_the_compiler_s_errors_go_to_the_build_log(tmp_path, fake_go, monkeypatch):
    monkeypatch.setenv("FAKE_GO_FAIL", "build")
    with pytest.raises(ServiceUnavailable):
        mongodb.build_ferretdb(tmp_path / "cache", progress=lambda line: None)
    log = mongodb.ferretdb_binary(tmp_path / "cache").parent / "build.log"
    assert "compile error" in log.read_text(errors="replace")


def test_the_seconds_said_are_those_since_the_build_began(tmp_path, fake_go, monkeypatch):
    from types import SimpleNamespace

    from narrative_fixtures.services.mongodb import server

    readings = iter([100.0])  # the build's start, then 112.4 s on a stubbed clock
    monkeypatch.setattr(server, "time", SimpleNamespace(perf_counter=lambda: next(readings, 112.4)))
    monkeypatch.setattr(subprocess, "Popen", LongCompile)
    monkeypatch.setattr(LongCompile, "bounds", [])
    said = []
    binary = mongodb.build_ferretdb(tmp_path / "cache", progress=said.append)
    assert said[1].endswith(" packages, 12 s") and said[-1] == f"FerretDB 1.24.2 built in 12 s: {binary}", said


def test_the_version_probe_is_bounded(tmp_path, monkeypatch):
    from narrative_fixtures.services.mongodb import server

    asked = []
    monkeypatch.setattr(server.subprocess, "run", lambda command, **options: asked.append(options) or
                        AnotherVersion())
    binary = tmp_path / "ferretdb"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert server.binary_works(binary) is False
    assert asked == [{"capture_output": True, "text": True, "timeout": 20}]


class AnotherVersion:
    """What `ferretdb --version` of another version answers."""

    returncode, stdout = 0, "version: v0.0.0"
