#!/usr/bin/env bash
# The acceptance job, end to end: scenarios with coverage, Allure results, the Allure 3 report (with history and a
# single-file copy), the final sign-off, and the browser check of both reports (screenshots in reports/screenshots/).
#   bash reports/acceptance-job.sh [extra pytest options, e.g. --require-services]
#   FEATURES="features/test_redis.py features/test_compose.py" bash reports/acceptance-job.sh   # a subset: its
#   sign-off is reports/signoff.partial.md / .html; the complete one (signoff.md / .html) is left as it was
# Needs: the synced venv (.venv), `npm ci` done at the repository root, Debian's chromium. Exits with pytest's
# status for the scenarios (the reports are built whatever it is), or with the browser check's if that fails.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

rm -rf reports/allure-results reports/coverage.json
# NARRATIVE_KEEP_COVERAGE=1 adds to the coverage data already in reports/ instead of starting afresh
[ "${NARRATIVE_KEEP_COVERAGE:-0}" = 1 ] || rm -f reports/.coverage reports/.coverage.*
# coverage run (not --cov): it starts before pytest imports the plugin, so the plugin's own import is measured;
# [tool.coverage.run] in pyproject.toml: branches, and subprocesses (the S3 server, nested runs) measured too
# The run notes which record it wrote: run.json for the whole spec, run.partial.json for a subset (FEATURES, -k),
# run.interrupted.json for a stopped run; the sign-off is rebuilt from that record and keeps its name.
wrote=$(mktemp); trap 'rm -f "$wrote"' EXIT
NARRATIVE_SIGNOFF_WROTE="$wrote" $PY -m coverage run -m pytest ${FEATURES:-features} --alluredir=reports/allure-results "$@"
status=$?
record=$(cat "$wrote" 2>/dev/null); record=${record:-reports/run.json}
kind=$(basename "$record" .json); kind=${kind#run}   # "", ".partial" or ".interrupted"
$PY -m coverage combine -q --append 2>/dev/null || true

# the final coverage (including the services' shutdown after the session), then the sign-off rebuilt with it
$PY -m coverage json -o "reports/coverage$kind.json" -q || true
$PY -m reports.signoff --run "$record" --coverage "reports/coverage$kind.json" || { [ "$status" -eq 0 ] && status=1; }

# Allure 3: reports/allure-report/awesome/index.html, reports/allure-report/single-file/index.html (one file for
# a ticket); every generation appends to reports/allure-history/history.jsonl (keep it between runs for trends)
npx --no-install allure generate reports/allure-results || { [ "$status" -eq 0 ] && status=1; }

$PY -m pytest tests/test_reports_browser.py -p no:randomly -q || { [ "$status" -eq 0 ] && status=1; }
exit "$status"
