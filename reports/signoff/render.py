"""Render the sign-off (Markdown and HTML, Jinja2 templates beside this module)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .checklist import COVERAGE_GOAL, STORY_TITLE
from .model import FAILED, NOT_VERIFIED, VERIFIED, SignOff

TEMPLATES = Path(__file__).parent / "templates"


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["percent"] = lambda value: "-" if value is None else f"{value:.1f}%"
    environment.filters["seconds"] = lambda value: "-" if value is None else f"{float(value):.1f} s"
    environment.filters["md"] = lambda value: str(value or "").replace("|", "\\|").replace("\n", " ")
    environment.filters["css"] = lambda verdict: {VERIFIED: "verified", FAILED: "failed"}.get(verdict, "not-verified")
    environment.globals.update(
        VERIFIED=VERIFIED, FAILED=FAILED, NOT_VERIFIED=NOT_VERIFIED, COVERAGE_GOAL=COVERAGE_GOAL, STORY=STORY_TITLE
    )
    return environment


def render(signoff: SignOff, template: str) -> str:
    return _environment().get_template(template).render(s=signoff, run=signoff.run)


def write_reports(signoff: SignOff, out: Path, suffix: str = "") -> list[Path]:
    """Write ``signoff<suffix>.md`` and ``signoff<suffix>.html`` into ``out`` (each whole or not at all)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for template, extension in (("signoff.md.j2", "md"), ("signoff.html.j2", "html")):
        path = out / f"signoff{suffix}.{extension}"
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.write_text(render(signoff, template), encoding="utf-8")
        os.replace(partial, path)
        paths.append(path)
    return paths


def load_coverage(path: str | Path | None) -> dict | None:
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
