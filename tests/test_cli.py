"""The commands that need no rendering, run as a user runs them."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from statistics import NormalDist

import pytest
from click.testing import CliRunner

from kldemo.cli import cli
from kldemo.config.examples import examples
from kldemo.config.schema import SCHEMA_FILE, schema_text

from .conftest import CONFIGS, REPO, kldemo


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["render"],
        ["still"],
        ["validate"],
        ["kl"],
        ["schema"],
        ["init"],
        ["examples"],
        ["easings"],
    ],
)
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_version():
    result = kldemo("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("kldemo, version ")


@pytest.mark.parametrize(
    "args",
    [["--help"], ["validate", "configs/asym-kl.yaml"], ["kl", "configs/asym-kl.yaml"], ["schema"]],
)
def test_light_commands_do_not_import_manim(args):
    code = (
        "import sys\n"
        "from kldemo.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "assert 'manim' not in sys.modules, 'manim was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_validate_reports_every_error_and_exits_2(write_config):
    bad = write_config("p: {means: [4, 6], stds: [1, -1]}\nq: {mean: 5, std: 0}\n")
    result = kldemo("validate", str(bad))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{bad}:1:30: error: p.stds[1]: must be > 0 (got -1)",
        f"{bad}:2:19: error: q.std: must be > 0 (got 0)",
    ]
    assert "Traceback" not in result.stderr


def test_validate_goes_on_after_a_bad_file(write_config):
    bad = write_config("p: 1\n", "bad.yaml")
    result = kldemo("validate", str(bad), "configs/asym-kl.yaml", str(bad.parent / "missing.yaml"))
    assert result.returncode == 2
    assert "configs/asym-kl.yaml: ok" in result.stdout
    assert f"{bad.parent / 'missing.yaml'}: error: no such file" in result.stderr


def test_kl_table_shows_the_seed_values():
    result = kldemo("kl", "configs/gaussian-vs-mixture.yaml")
    assert result.returncode == 0, result.stderr
    header, first = result.stdout.splitlines()[1:3]
    # The caption comes last, where any row has one (this file's keyframes do).
    assert header.split()[-6:] == ["KL(p‖q)", "KL(q‖p)", "JS", "TV", "Hellinger", "caption"]
    assert first.split()[-5:-3] == ["0.5268", "1.7232"]  # this row has no caption


def test_kl_json_has_the_specs_shape():
    result = kldemo("kl", "configs/asym-kl.yaml", "--format", "json")
    data = json.loads(result.stdout)
    assert set(data) == {"config", "duration", "rows"}
    assert data["duration"] == 28.0
    assert [row["t"] for row in data["rows"]] == [
        0,
        2.75,
        6.25,
        9.75,
        13.25,
        16.75,
        20.25,
        23.75,
        27.25,
    ]
    row = data["rows"][0]
    assert list(row) == [
        "t",
        "keyframe",
        "p",
        "q",
        "forward_kl",
        "reverse_kl",
        "js",
        "tv",
        "hellinger",
        "caption",
    ]
    assert row["caption"] == "p splits into two distant modes"
    assert row["keyframe"] is None and data["rows"][1]["keyframe"] == 0
    assert row["p"] == {"weights": [0.5, 0.5], "means": [4.0, 6.0], "stds": [0.75, 0.75]}
    assert row["q"] == {"weights": [1.0], "means": [5.0], "stds": [1.0]}
    assert row["forward_kl"] > 0 and row["reverse_kl"] > 0
    assert 0 < row["js"] < math.log(2) and 0 < row["tv"] < 1 and 0 < row["hellinger"] < 1


def test_kl_at_and_every_and_csv():
    result = kldemo("kl", "configs/mean-sweep.yaml", "--every", "4", "--at", "1", "--format", "csv")
    lines = result.stdout.splitlines()
    assert lines[0].split(",")[:2] == ["t", "keyframe"]
    times = [float(line.split(",")[0]) for line in lines[1:]]
    assert times == [0.0, 1.0, 4.0, 8.0]
    # q = N(mu, 1) against N(0, 1): both KLs are mu^2 / 2; at t = 1, mu = -10 + 10/4
    assert lines[0].split(",")[-6:] == [
        "forward_kl",
        "reverse_kl",
        "js",
        "tv",
        "hellinger",
        "caption",
    ]
    row = dict(zip(lines[0].split(","), lines[2].split(","), strict=True))
    assert float(row["forward_kl"]) == pytest.approx(7.5**2 / 2, rel=1e-12)
    assert float(row["reverse_kl"]) == pytest.approx(7.5**2 / 2, rel=1e-12)
    # N(0, 1) against N(d, 1): TV = 2Φ(d/2) - 1 and Hellinger² = 1 - exp(-d²/8)
    assert float(row["tv"]) == pytest.approx(2 * NormalDist().cdf(7.5 / 2) - 1, abs=1e-12)
    assert float(row["hellinger"]) == pytest.approx(
        math.sqrt(-math.expm1(-(7.5**2) / 8)), abs=1e-12
    )


def test_kl_refuses_a_time_outside_the_video():
    result = kldemo("kl", "configs/asym-kl.yaml", "--at", "99")
    assert result.returncode == 2
    assert result.stderr.strip() == "kldemo: error: --at 99: the video runs from 0 to 28 s"


def test_schema_file_is_current():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "regenerate with: kldemo schema -o kldemo/schema/kldemo.schema.json"
    )


def test_schema_command_prints_the_schema():
    result = kldemo("schema")
    assert json.loads(result.stdout)["title"].startswith("kldemo keyframe file")


def test_examples_lists_every_config():
    result = kldemo("examples")
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == sorted(p.stem for p in CONFIGS.glob("*.yaml"))
    assert set(examples()) == set(names)


def test_init_writes_an_example_and_refuses_to_overwrite(tmp_path):
    result = kldemo("init", "--example", "mean-sweep", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "mean-sweep.yaml"
    assert written.read_text().startswith("# yaml-language-server: $schema=kldemo.schema.json\n")
    assert (tmp_path / "kldemo.schema.json").read_text(encoding="utf-8") == schema_text()
    assert kldemo("validate", str(written)).returncode == 0
    again = kldemo("init", "--example", "mean-sweep", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip() == (
        "kldemo: error: mean-sweep.yaml exists; pass --force to overwrite it"
    )
    assert kldemo("init", "--example", "mean-sweep", "--force", cwd=tmp_path).returncode == 0
    wrong = kldemo("init", "--example", "mean-swep", cwd=tmp_path)
    assert wrong.stderr.strip() == (
        "kldemo: error: no example named 'mean-swep'; did you mean "
        "'mean-sweep'? `kldemo examples` lists them"
    )


def test_an_init_folder_keeps_its_schema_when_moved(tmp_path):
    made = tmp_path / "made"
    made.mkdir()
    assert kldemo("init", "lecture.yaml", cwd=made).returncode == 0
    moved = made.rename(tmp_path / "shared-elsewhere")
    modeline = (moved / "lecture.yaml").read_text().splitlines()[0]
    target = moved / modeline.split("$schema=", 1)[1]  # resolved as an editor does
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(schema_text())


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_config_is_valid_and_has_the_modeline(path):
    result = kldemo("validate", str(path))
    assert result.returncode == 0, result.stderr
    assert path.read_text().startswith(
        "# yaml-language-server: $schema=../kldemo/schema/kldemo.schema.json\n"
    )


def test_the_kl_table_prints_rounding_noise_next_to_the_scale_as_zero():
    import numpy as np

    from kldemo.core.mixture import Mixture
    from kldemo.plan.table import _describe

    noisy = Mixture(np.array([[1.0]]), np.array([[-7.693e-27]]), np.array([[1.414]]))
    assert _describe(noisy, 0) == "μ=0 σ=1.414"
    small = Mixture(np.array([[1.0]]), np.array([[-3e-9]]), np.array([[1e-3]]))
    assert _describe(small, 0) == "μ=-3e-09 σ=0.001"  # not noise at this scale
