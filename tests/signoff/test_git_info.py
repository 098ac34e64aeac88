"""The run record's git block, read with one ``git status`` call: commit, branch, dirty, as three calls gave them."""

from __future__ import annotations

import subprocess

from narrative_fixtures.signoff.collect import git_info


def _git(repo, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _repository(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "trunk")
    (repo / "tracked.txt").write_text("one\n")
    _git(repo, "add", "tracked.txt")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "first")
    return repo


def test_a_clean_work_tree_gives_its_commit_and_branch(tmp_path):
    repo = _repository(tmp_path)
    commit = _git(repo, "rev-parse", "HEAD")
    assert git_info(repo) == {"commit": commit, "short": commit[:10], "branch": "trunk", "dirty": False}


def test_a_changed_tracked_file_reads_dirty_an_untracked_one_does_not(tmp_path):
    repo = _repository(tmp_path)
    (repo / "untracked.txt").write_text("new\n")
    assert git_info(repo)["dirty"] is False
    (repo / "tracked.txt").write_text("two\n")
    assert git_info(repo)["dirty"] is True


def test_a_detached_head_is_named_head_as_git_rev_parse_names_it(tmp_path):
    repo = _repository(tmp_path)
    _git(repo, "checkout", "-q", "--detach")
    assert git_info(repo)["branch"] == "HEAD"


def test_outside_a_repository_the_commit_is_unknown(tmp_path):
    assert git_info(tmp_path) == {"commit": "unknown", "short": "unknown", "branch": "", "dirty": False}
