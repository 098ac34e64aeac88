"""The sign-off's rules and its view of a run: one verdict per checklist item, coverage against the goal.

Verdict rules (the product owner's, not ours to soften):

* **verified** - the item has scenarios and every one of them PASSED;
* **failed** - at least one of its scenarios failed (or errored);
* **NOT verified** - anything else: a scenario was skipped (a skip proves nothing), or no scenario is linked.

Everything here works on plain data (the run record ``reports/run.json`` and a coverage JSON report), so the same
code serves the end-of-run hook and ``python -m reports.signoff``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from narrative_fixtures.core.masking import mask

from .checklist import CHECKLIST, COVERAGE_GOAL, STORY_TITLE, Criterion, criterion_for, story_fixtures
from .scope import headline_prefix

VERIFIED = "verified"
FAILED = "failed"
NOT_VERIFIED = "NOT verified"

PASSED_OUTCOMES = {"passed"}
FAILED_OUTCOMES = {"failed", "error"}
# everything else ("skipped", "xfailed", "deselected"...) is neither proof nor disproof


def verdict(outcomes: list[str]) -> str:
    """The verdict of one checklist item from the outcomes of its scenarios."""
    if any(outcome in FAILED_OUTCOMES for outcome in outcomes):
        return FAILED
    if outcomes and all(outcome in PASSED_OUTCOMES for outcome in outcomes):
        return VERIFIED
    return NOT_VERIFIED


def mask_text(text: str | None, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """``narrative_fixtures.core.masking.mask`` that returns ``""`` for no text (kept for existing imports)."""
    return mask(text, secrets) or ""


def one_line(text: str | None, limit: int = 240) -> str:
    """The first meaningful line of a message, shortened: what a reader needs, never a stack trace."""
    if not text:
        return ""
    for line in str(text).splitlines():
        line = line.strip()
        if line and not line.startswith(("Traceback", "File ", "During handling")):
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


@dataclass
class Scenario:
    """One scenario's result as the sign-off shows it."""

    nodeid: str
    feature: str
    name: str
    outcome: str
    reason: str = ""
    duration: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)
    fixtures: list[str] = field(default_factory=list)
    feature_file: str = ""

    @classmethod
    def from_record(cls, record: dict) -> "Scenario":
        return cls(
            nodeid=record["nodeid"],
            feature=record.get("feature") or "",
            name=record.get("scenario") or record["nodeid"],
            outcome=record.get("outcome") or "unknown",
            reason=one_line(mask_text(record.get("reason"))),
            duration=float(record.get("duration") or 0.0),
            labels=dict(record.get("labels") or {}),
            fixtures=list(record.get("fixtures") or []),
            feature_file=record.get("feature_file") or "",
        )

    @property
    def criterion(self) -> Criterion | None:
        return criterion_for(self.labels, self.feature)


@dataclass
class Row:
    """One checklist item with its verdict and the scenarios behind it."""

    number: int
    criterion: Criterion
    verdict: str
    scenarios: list[Scenario]

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for scenario in self.scenarios:
            counts[scenario.outcome] = counts.get(scenario.outcome, 0) + 1
        return counts

    @property
    def evidence(self) -> str:
        """One sentence a product owner can read: why this verdict."""
        total = len(self.scenarios)
        if total == 0:
            return "No scenario checks this item in this run."
        counts = self.counts
        passed = counts.get("passed", 0)
        if self.verdict == VERIFIED:
            return f"All {total} scenario{'s' if total != 1 else ''} passed."
        parts = [f"{passed} of {total} passed"]
        for outcome in ("failed", "error", "skipped", "xfailed"):
            if counts.get(outcome):
                parts.append(f"{counts[outcome]} {outcome}")
        reasons = sorted({s.reason for s in self.scenarios if s.outcome != "passed" and s.reason})
        sentence = ", ".join(parts) + "."
        if reasons:
            sentence += " " + ("Reason: " if len(reasons) == 1 else "Reasons: ") + "; ".join(reasons[:3])
            if len(reasons) > 3:
                sentence += f" (+{len(reasons) - 3} more)"
        return sentence


@dataclass
class CoverageRow:
    module: str
    path: str
    statements: int
    covered_lines: int
    branches: int
    covered_branches: int
    percent: float
    goal: bool  # a goal row (a service's fixture module, or the whole package)

    @property
    def meets_goal(self) -> bool:
        return self.percent > COVERAGE_GOAL


@dataclass
class GoalRow:
    """One line of the story's "Coverage Goals": a fixture module against >85%."""

    label: str
    module: str
    percent: float | None  # None: not measured (the module does not exist or coverage was not collected)

    @property
    def status(self) -> str:
        if self.percent is None:
            return "not measured"
        return "met" if self.percent > COVERAGE_GOAL else "below goal"


@dataclass
class FixtureUse:
    name: str
    story: bool  # one of the story's twelve fixtures
    registered: bool  # the plugin registers it
    passing: list[str]  # passing scenarios that used it

    @property
    def status(self) -> str:
        if not self.registered:
            return "missing"
        return "used" if self.passing else "unused"


@dataclass
class SignOff:
    """Everything the sign-off templates show."""

    title: str
    run: dict
    rows: list[Row]
    unlinked: list[Scenario]
    coverage: list[CoverageRow]
    coverage_total: float | None
    coverage_source: str
    goals: list[GoalRow]
    fixtures: list[FixtureUse]
    totals: dict[str, int]

    @property
    def verified(self) -> int:
        return sum(row.verdict == VERIFIED for row in self.rows)

    @property
    def failed(self) -> int:
        return sum(row.verdict == FAILED for row in self.rows)

    @property
    def not_verified(self) -> int:
        return sum(row.verdict == NOT_VERIFIED for row in self.rows)

    @property
    def overall(self) -> str:
        """verified only when every checklist item is verified."""
        if self.failed:
            return FAILED
        return VERIFIED if self.verified == len(self.rows) else NOT_VERIFIED

    @property
    def headline(self) -> str:
        """The verdict in one sentence, led by "Partial run (...)" / "Interrupted run (...)" when it was one."""
        total = len(self.rows)
        if self.overall == VERIFIED:
            verdict_text = f"All {total} acceptance criteria are verified by passing scenarios."
        else:
            verdict_text = (
                f"{self.verified} of {total} acceptance criteria verified"
                f" - {self.failed} failed, {self.not_verified} NOT verified."
            )
        return headline_prefix(self.run) + verdict_text

    @property
    def scenario_count(self) -> int:
        return sum(self.totals.values())


def module_name(path: str) -> str | None:
    """``fixtures/narrative_fixtures/services/redis.py`` -> ``narrative_fixtures.services.redis`` (else None)."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if "narrative_fixtures" not in parts:
        return None
    parts = parts[parts.index("narrative_fixtures") :]
    name = ".".join(parts)[: -len(".py")] if parts[-1].endswith(".py") else None
    if name and name.endswith(".__init__"):
        name = name[: -len(".__init__")]
    return name


def coverage_rows(report: dict | None) -> tuple[list[CoverageRow], float | None]:
    """Per-module coverage (statements and branches) of the fixture package from a coverage JSON report."""
    if not report:
        return [], None
    goal_modules = {c.module for c in CHECKLIST if c.module}
    rows = []
    statements = covered = branches = covered_branches = 0
    for path, data in sorted((report.get("files") or {}).items()):
        name = module_name(path)
        if name is None:
            continue
        summary = data.get("summary") or {}
        row = CoverageRow(
            module=name,
            path=path,
            statements=int(summary.get("num_statements", 0)),
            covered_lines=int(summary.get("covered_lines", 0)),
            branches=int(summary.get("num_branches", 0)),
            covered_branches=int(summary.get("covered_branches", 0)),
            percent=float(summary.get("percent_covered", 0.0)),
            goal=any(_in_package(name, module) for module in goal_modules),
        )
        rows.append(row)
        statements += row.statements
        covered += row.covered_lines
        branches += row.branches
        covered_branches += row.covered_branches
    total = None
    if statements + branches:
        total = 100.0 * (covered + covered_branches) / (statements + branches)
    return rows, total


def _in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def package_percent(coverage: list[CoverageRow], package: str) -> float | None:
    """Statements and branches of every module of ``package`` together (a service is a package of modules)."""
    rows = [row for row in coverage if _in_package(row.module, package)]
    measured = sum(row.statements + row.branches for row in rows)
    if not measured:
        return None
    return 100.0 * sum(row.covered_lines + row.covered_branches for row in rows) / measured


def goal_rows(coverage: list[CoverageRow], total: float | None) -> list[GoalRow]:
    goals = []
    for criterion in CHECKLIST:
        if criterion.module:
            label = criterion.text.split(" fixtures")[0] + " fixtures"
            goals.append(GoalRow(label, criterion.module, package_percent(coverage, criterion.module)))
    goals.append(GoalRow("Overall (whole fixture package)", "narrative_fixtures", total))
    return goals


def fixture_uses(run: dict, scenarios: list[Scenario]) -> list[FixtureUse]:
    registered = set(run.get("registered_fixtures") or [])
    story = story_fixtures()
    names = list(story) + sorted(registered - set(story))
    uses = []
    for name in names:
        passing = sorted({s.name for s in scenarios if s.outcome == "passed" and name in s.fixtures})
        uses.append(FixtureUse(name, name in story, name in registered, passing))
    return uses


def build(run: dict, coverage_report: dict | None = None) -> SignOff:
    """The sign-off of a run record (``reports/run.json``) and an optional coverage JSON report."""
    scenarios = [Scenario.from_record(record) for record in run.get("scenarios") or []]
    rows = []
    for number, criterion in enumerate(CHECKLIST, 1):
        linked = [s for s in scenarios if s.criterion == criterion]
        linked.sort(key=lambda s: (s.outcome == "passed", s.feature, s.name))
        rows.append(Row(number, criterion, verdict([s.outcome for s in linked]), linked))
    unlinked = [s for s in scenarios if s.criterion is None]
    totals: dict[str, int] = {}
    for scenario in scenarios:
        totals[scenario.outcome] = totals.get(scenario.outcome, 0) + 1
    coverage, total = coverage_rows(coverage_report)
    return SignOff(
        title=STORY_TITLE,
        run=run,
        rows=rows,
        unlinked=unlinked,
        coverage=coverage,
        coverage_total=total,
        coverage_source=(run.get("coverage") or {}).get("source", "not collected"),
        goals=goal_rows(coverage, total),
        fixtures=fixture_uses(run, scenarios),
        totals=totals,
    )
