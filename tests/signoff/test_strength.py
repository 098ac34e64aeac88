"""The sign-off's evidence strength (from ``mutation.json``) and its services table's Worker column."""

from __future__ import annotations

import hashlib
import json

from narrative_fixtures.signoff import build
from narrative_fixtures.signoff.render import render, worker_cell, write_reports
from narrative_fixtures.signoff.strength import NOT_MEASURED, load, of


def _report(root, text="def f():\n    return 1\n"):
    module = root / "pkg" / "jobs.py"
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(text)
    entry = {
        "date": "2026-12-02T00:30:00+00:00", "commit": "0123456789abcdef", "detected": 41, "judged": 48,
        "score": 85.4, "complete": True, "survivors": [{"file": "pkg/jobs.py", "line": 2}] * 7,
        "modules": {"pkg.jobs": {"file": "pkg/jobs.py", "sha256": hashlib.sha256(text.encode()).hexdigest()}},
    }
    reports = root / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "mutation.json").write_text(json.dumps({"schema": 1, "criteria": {"redis": entry}}))
    return reports, module


def _run(services=()):
    return {"finished": "2026-12-02 00:40:00 UTC", "duration_s": 1.0, "command": "pytest features", "exit_status": 0,
            "python": "3.11", "pytest": "9", "git": {"commit": "abc", "short": "abc", "branch": "main", "dirty": False},
            "services": list(services), "scenarios": [], "registered_fixtures": [], "coverage": {"source": "none"}}


def test_a_measured_criterion_shows_killed_over_total_with_date_and_commit(tmp_path):
    reports, _ = _report(tmp_path)
    strength = of(load(reports), "redis")
    assert strength.text == "41 / 48 mutants killed (85.4%), measured 2026-12-02 at 0123456"
    assert strength.status == "measured" and strength.link == "mutation.md#redis"


def test_a_criterion_whose_module_changed_since_reads_stale(tmp_path):
    reports, module = _report(tmp_path)
    module.write_text("def f():\n    return 2\n")
    strength = of(load(reports), "redis")
    assert strength.status == "stale" and strength.text.endswith("stale: pkg/jobs.py changed since")


def test_no_report_reads_not_measured_never_a_number(tmp_path):
    strength = of(load(tmp_path), "redis")
    assert strength.text == NOT_MEASURED and not strength.link
    (tmp_path / "mutation.json").write_text("{not json")
    assert load(tmp_path) == {}


def test_the_sign_off_shows_each_service_criterion_strength_and_links_its_survivors(tmp_path):
    reports, _ = _report(tmp_path)
    paths = write_reports(build(_run()), reports)
    markdown, html = (path.read_text() for path in paths)
    assert "[41 / 48 mutants killed (85.4%), measured 2026-12-02 at 0123456](mutation.md#redis)" in markdown
    assert '<a href="mutation.md#redis">41 / 48 mutants killed' in html
    mongodb_row = next(line for line in markdown.splitlines() if "| MongoDB fixtures" in line)
    assert mongodb_row.endswith(f"| {NOT_MEASURED} |")
    compose_row = next(line for line in markdown.splitlines() if "| Docker Compose" in line)
    assert compose_row.endswith("|  |")  # a criterion without a service has no modules to mutate


def test_the_services_table_names_the_workers_and_leaves_a_serial_run_empty():
    assert worker_cell({"workers": ["master"], "worker": "master"}) == ""
    assert worker_cell({"workers": ["gw0", "gw1"], "worker": "gw0, gw1"}) == "gw0, gw1"
    assert worker_cell({"worker": "gw1"}) == "gw1"
    service = {"name": "redis", "status": "used", "mode": "embedded", "backend": "redis-server", "version": "7.2",
               "url": "redis://127.0.0.1:1/0", "workers": ["gw0"], "worker": "gw0"}
    markdown = render(build(_run([service])), "signoff.md.j2")
    assert "| Service | Status | Mode | Backend | Version | Address | Worker |" in markdown
    assert "| redis://127.0.0.1:1/0 | gw0 |" in markdown
    assert '<td class="worker">gw0</td>' in render(build(_run([service])), "signoff.html.j2")


def test_a_criterion_whose_run_left_modules_out_reads_partial_and_names_them(tmp_path):
    reports, _ = _report(tmp_path)
    report = json.loads((reports / "mutation.json").read_text())
    report["criteria"]["redis"]["modules_unmeasured"] = ["pkg/factories.py", "pkg/ping.py"]
    (reports / "mutation.json").write_text(json.dumps(report))
    strength = of(load(reports), "redis")
    assert strength.status == "partial"
    assert strength.text.endswith(", partial: 2 of its modules not measured (factories.py, ping.py)")


def test_a_fresh_clone_reads_the_committed_evidence_and_links_its_survivors_page(tmp_path):
    reports, _ = _report(tmp_path)
    evidence = tmp_path / "docs" / "mutation-evidence.json"
    evidence.parent.mkdir()
    (reports / "mutation.json").rename(evidence)  # reports/ is output only: a clone has none of it
    strength = of(load(reports, tmp_path), "redis")
    assert strength.text == "41 / 48 mutants killed (85.4%), measured 2026-12-02 at 0123456"
    assert strength.link == "../docs/mutation-survivors.md#redis"
    markdown = write_reports(build(_run()), reports, root=tmp_path)[0].read_text()
    assert "](../docs/mutation-survivors.md#redis)" in markdown
    (reports / "mutation.json").write_text(evidence.read_text().replace('"detected": 41', '"detected": 40'))
    assert of(load(reports, tmp_path), "redis").detected == 40  # a run's own report comes first
