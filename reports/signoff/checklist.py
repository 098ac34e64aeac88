"""Story 9.3's acceptance checklist and how a scenario is linked to one of its items.

The checklist is the contract the product owner signs off: the eight items of the story's "Acceptance Criteria
Status", word for word. A scenario belongs to an item through, in order:

1. its ``@criterion:<key>`` tag (``@criterion:graceful-skip``);
2. its ``@task:3.x`` tag (the four service tasks map to the four service items);
3. its Feature title, when it is exactly an item's wording.

The Allure labels (epic / feature / story) and the sign-off report both read this module, so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

EPIC = "Sprint 9"
STORY_TITLE = "Story 9.3: Integration Test Fixtures"
COVERAGE_GOAL = 85.0  # percent, per fixture module ("Test Coverage: >85% for all fixture types")
DEFAULT_OWNER = "backend-team"
DEFAULT_SEVERITY = "normal"
SEVERITIES = ("blocker", "critical", "normal", "minor", "trivial")


@dataclass(frozen=True)
class Criterion:
    """One item of the story's acceptance checklist."""

    key: str
    text: str  # the story's exact wording; the Feature title of its feature file
    task: str | None = None  # the story task that delivers it ("3.2"), if any
    module: str | None = None  # the fixture module whose coverage backs it, if any


CHECKLIST: tuple[Criterion, ...] = (
    Criterion("mongodb", "MongoDB fixtures with Beanie ODM integration", "3.1", "narrative_fixtures.services.mongodb"),
    Criterion("redis", "Redis fixtures for background job testing", "3.2", "narrative_fixtures.services.redis"),
    Criterion("s3", "S3 LocalStack fixtures for file storage testing", "3.3", "narrative_fixtures.services.s3"),
    Criterion("openai", "OpenAI API mocking fixtures", "3.4", "narrative_fixtures.services.openai"),
    Criterion("examples", "Integration test examples for each fixture type"),
    Criterion("graceful-skip", "Tests gracefully skip when services unavailable"),
    Criterion("compose", "Docker Compose configuration for test services"),
    Criterion("documentation", "Comprehensive documentation"),
)

BY_KEY = {criterion.key: criterion for criterion in CHECKLIST}

# The story's tasks, as the Allure "feature" level shows them (epic Sprint 9 > feature task > story criterion).
TASKS = {
    "3.1": "Task 3.1: MongoDB Test Fixtures",
    "3.2": "Task 3.2: Redis Test Fixtures",
    "3.3": "Task 3.3: S3 LocalStack Test Fixtures",
    "3.4": "Task 3.4: OpenAI API Mocking Fixtures",
    "infrastructure": "Story 9.3 infrastructure: examples, graceful skipping, Docker Compose, documentation",
}

# The twelve fixtures the story promises (its "Fixtures Created" lists), by task.
STORY_FIXTURES: dict[str, tuple[str, ...]] = {
    "3.1": ("setup_database", "mongo_client", "test_user_data", "test_trained_model", "test_batch_job"),
    "3.2": ("redis_client", "test_redis_job"),
    "3.3": ("s3_client", "test_s3_bucket", "test_s3_file"),
    "3.4": ("mock_openai", "test_openai_response"),
}


def story_fixtures() -> list[str]:
    return [name for names in STORY_FIXTURES.values() for name in names]


def task_title(task: str | None) -> str | None:
    if task is None:
        return None
    return TASKS.get(task, f"Task {task}")


def criterion_for(labels: dict[str, str], feature_title: str | None) -> Criterion | None:
    """The checklist item a scenario belongs to (see the module docstring), or None when it is unlinked."""
    if "criterion" in labels:  # an explicit link wins; an unknown key leaves the scenario unlinked (and shown)
        return BY_KEY.get(labels["criterion"])
    task = labels.get("task")
    for criterion in CHECKLIST:
        if task is not None and criterion.task == task:
            return criterion
    for criterion in CHECKLIST:
        if feature_title and feature_title.strip() == criterion.text:
            return criterion
    return None
