#!/usr/bin/env bash
# The acceptance job, end to end: scenarios with coverage, Allure results, the Allure 3 report (with history and a
# single-file copy), the final sign-off, and the browser check of both reports (screenshots in reports/screenshots/).
#   bash reports/acceptance-job.sh [extra pytest options, e.g. --require-services]
#   FEATURES="features/test_redis.py features/test_compose.py" bash reports/acceptance-job.sh   # a subset
# Needs: the synced venv (.venv), `npm ci` done at the repository root, Debian's chromium. Exits with pytest's
# status for the scenarios (the reports are built whatever it is), or with the browser check's if that fails.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

rm -rf reports/allure-results reports/.coverage reports/coverage.json
# coverage run (not --cov): it starts before pytest imports the plugin, so the plugin's own import is measured
$PY -m coverage run --branch --source=narrative_fixtures --data-file=reports/.coverage \
    -m pytest ${FEATURES:-features} --alluredir=reports/allure-results "$@"
status=$?

# the final coverage (including the services' shutdown after the session), then the sign-off rebuilt with it
$PY -m coverage json --data-file=reports/.coverage -o reports/coverage.json -q || true
$PY -m reports.signoff || { [ "$status" -eq 0 ] && status=1; }

# Allure 3: reports/allure-report/awesome/index.html, reports/allure-report/single-file/index.html (one file for
# a ticket); every generation appends to reports/allure-history/history.jsonl (keep it between runs for trends)
npx --no-install allure generate reports/allure-results || { [ "$status" -eq 0 ] && status=1; }

$PY -m pytest tests/test_reports_browser.py -p no:randomly -q || { [ "$status" -eq 0 ] && status=1; }
exit "$status"
