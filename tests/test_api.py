"""The Python API (kldemo.api): the commands as functions, on paths and on dicts, with the
CLI's diagnostics and numbers, results that display in Jupyter, and docs/notebook.ipynb
run by a real kernel."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import kldemo
from kldemo.errors import ConfigError, Diagnostic, UsageError

from .conftest import CONFIGS, REPO, frames
from .conftest import kldemo as run_kldemo

TINY = {"resolution": (160, 90), "fps": 5, "labels": "text"}
CONFIG: dict[str, Any] = {
    "p": {"means": [-1, 1], "stds": [0.5, 0.5]},
    "q": {"mean": 0, "std": 1},
    "defaults": {"duration": 1, "hold": 0.4},
    "keyframes": [{"q": {"mean": 1}, "caption": "q moves"}, {"q": {"std": 0.6}}],
}
BAD: dict[str, Any] = {
    "p": {"means": [4, 6], "stds": [0.75, 0.75]},
    "q": {"mena": 5, "std": 1},
    "keyframes": [{}, {}, {"q": {"std": -2}}],
}


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder of its own, with its own segment cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KLDEMO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def written(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if "cache" not in p.parts
    )


# -- light, and checked like a file -------------------------------------------------


def test_import_kldemo_is_light_and_the_api_comes_on_first_use():
    code = (
        "import sys, kldemo\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('manim', 'scipy') "
        "or m.startswith('kldemo.'))\n"
        "print(heavy)\n"
        "print(kldemo.validate.__module__, kldemo.ConfigError.__module__)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'manim'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    assert done.stdout.splitlines() == ["[]", "kldemo.api kldemo.errors", "[]"]
    assert {"render", "still", "kl", "validate", "ConfigError"} <= set(dir(kldemo))
    with pytest.raises(AttributeError, match="no attribute 'rendr'"):
        kldemo.rendr  # noqa: B018


def test_validate_takes_a_path_or_a_dict():
    assert kldemo.validate(CONFIGS / "asym-kl.yaml") is None
    assert kldemo.validate(str(CONFIGS / "asym-kl.yaml")) is None
    assert kldemo.validate(CONFIG) is None


def test_a_bad_dict_raises_config_error_naming_dict_and_the_place():
    with pytest.raises(ConfigError) as caught:
        kldemo.validate(BAD)
    assert str(caught.value).splitlines() == [
        "<dict>: error: keyframes[2].q.std: must be > 0 (got -2)",
        "<dict>: error: q.mena: unknown key 'mena'; did you mean 'mean'?",
    ]
    assert caught.value.diagnostics[0] == Diagnostic(
        "<dict>", None, None, "keyframes[2].q.std", "must be > 0 (got -2)"
    )
    assert kldemo.ConfigError is ConfigError
    # every call checks the config by the same code
    for call in (
        lambda: kldemo.kl(BAD),
        lambda: kldemo.still(BAD, 0, output="x.png"),
        lambda: kldemo.render(BAD, output="x.mp4"),
    ):
        with pytest.raises(ConfigError, match=r"keyframes\[2\]\.q\.std: must be > 0"):
            call()


def test_a_bad_file_raises_the_lines_the_cli_prints(write_config):
    path = write_config("""
        p: {means: [4, 6], stds: [0.75, 0.75]}
        q: {mena: 5, std: 1}
        keyframes:
          - q: {std: -2}
    """)
    with pytest.raises(ConfigError) as caught:
        kldemo.validate(path)
    cli = run_kldemo("validate", path)
    assert cli.returncode == 2
    assert str(caught.value) + "\n" == cli.stderr
    assert str(caught.value).splitlines() == [
        f"{path}:2:5: error: q.mena: unknown key 'mena'; did you mean 'mean'?",
        f"{path}:4:14: error: keyframes[0].q.std: must be > 0 (got -2)",
    ]
    assert (caught.value.diagnostics[0].line, caught.value.diagnostics[0].column) == (2, 5)


def test_dict_values_that_a_yaml_file_cannot_hold_are_named():
    looped: dict[str, Any] = {"mean": 0}
    looped["std"] = looped
    odd = {"p": {"means": {1, 2}, "stds": [1]}, "q": looped, 3: "x"}
    with pytest.raises(ConfigError) as caught:
        kldemo.validate(odd)
    assert sorted(map(str, caught.value.diagnostics)) == [
        "<dict>: error: keys must be names (strings), not 3",
        "<dict>: error: p.means: a Python set cannot be in a config, which holds dicts, "
        "lists, strings, numbers, booleans and None",
        "<dict>: error: q.std: holds itself (a recursive dict or list); write the values out",
    ]


def test_numpy_values_and_tuples_read_as_the_numbers_they_hold():
    numeric = {**CONFIG, "p": {"means": np.array([-1.0, 1.0]), "stds": (np.float64(0.5), 0.5)}}
    assert kldemo.kl(numeric) == kldemo.kl(CONFIG)
    assert CONFIG["p"] == {"means": [-1, 1], "stds": [0.5, 0.5]}  # the caller's dict untouched


# -- kl ------------------------------------------------------------------------------


def test_kl_rows_are_the_cli_s_json_rows():
    config = CONFIGS / "asym-kl.yaml"
    for api_args, cli_args in [
        ({}, []),
        ({"at": [0.5, 3.25], "every": 4.0}, ["--at", "0.5", "--at", "3.25", "--every", "4"]),
        ({"at": 1.5}, ["--at", "1.5"]),
    ]:
        rows = kldemo.kl(config, **api_args)
        cli = run_kldemo("kl", config, "--format", "json", *cli_args)
        assert cli.returncode == 0, cli.stderr
        document = json.loads(cli.stdout)
        assert rows == document["rows"]
        assert rows.duration == document["duration"]
        assert isinstance(rows, list) and isinstance(rows[0], dict)


def test_kl_of_a_dict_is_that_of_the_same_config_in_a_file(tmp_path):
    path = tmp_path / "same.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    assert kldemo.kl(CONFIG, every=0.5) == kldemo.kl(path, every=0.5)


def test_kl_rows_show_as_a_table():
    table = kldemo.kl(CONFIG)._repr_html_()
    assert table.startswith("<table><thead><tr><th>t</th><th>keyframe</th><th>p</th>")
    assert "<th>forward_kl</th><th>reverse_kl</th>" in table
    assert table.count("<tr>") == 1 + 3  # the heading, t = 0 and the end of each transition
    assert "<td>start</td>" in table and "μ=[-1, 1] σ=[0.5, 0.5]" in table


# -- options are checked first --------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: kldemo.render(CONFIG, output="v.mp4", qualty="l"),
            "render() takes no option 'qualty'; did you mean 'quality'?",
        ),
        (
            lambda: kldemo.render(CONFIG, output="v.mp4", quality="z"),
            "quality='z': choose one of 'l', 'm', 'h', 'p', 'k'",
        ),
        (
            lambda: kldemo.render(CONFIG, output="v.mp4", resolution=(8, 8)),
            "resolution=(8, 8): each side must be from 16 to 7680 (4320 high)",
        ),
        (
            lambda: kldemo.render(CONFIG, output="v.mp4", resolution="wide"),
            "resolution='wide': write it as (W, H), e.g. (1920, 1080)",
        ),
        (lambda: kldemo.render(CONFIG, output="v.mp4", fps=0), "fps=0: must be from 1 to 240"),
        (lambda: kldemo.render(CONFIG, output="v.mp4", jobs=0), "jobs=0: must be a whole number"),
        (
            lambda: kldemo.render(CONFIG, output="v.mp4", no_cache="yes"),
            "no_cache='yes': must be True or False",
        ),
        (
            lambda: kldemo.render(CONFIG, output="v.mp4", format="gif", fmt="gif"),
            "give format= or fmt=, not both",
        ),
        (
            lambda: kldemo.render(CONFIG, output="v.mp4", format="mov"),
            "--format mov and -o v.mp4 disagree",
        ),
        (
            lambda: kldemo.render(CONFIG),
            "a config given as a dict has no file name to name the video after: pass output=...",
        ),
        (lambda: kldemo.still(CONFIG, at=1), "a config given as a dict has no file name"),
        (
            lambda: kldemo.render(CONFIG, output="videos"),
            "output='videos' names a folder, and a config given as a dict has no file name",
        ),
        (
            lambda: kldemo.still(CONFIG, at=9, output="f.png"),
            "at=9: the video runs from 0 to 2.8 s",
        ),
        (lambda: kldemo.still(CONFIG, at="1", output="f.png"), "at='1': must be a number"),
        (
            lambda: kldemo.still(CONFIG, at=1, output="f.png", jobs=2),
            "still() takes no option 'jobs'",
        ),
        (lambda: kldemo.kl(CONFIG, every=-1), "every=-1: must be a number of seconds > 0"),
        (lambda: kldemo.kl(CONFIG, at=[1, 99]), "at=99: the video runs from 0 to 2.8 s"),
        (
            lambda: kldemo.validate(["p", "q"]),
            "config=['p', 'q']: give the path of a keyframe file, or the config as a dict",
        ),
    ],
)
def test_options_that_cannot_work_raise_usage_error_and_write_nothing(sandbox, call, message):
    with pytest.raises(UsageError) as caught:
        call()
    assert str(caught.value).startswith(message)
    assert written(sandbox) == []


# -- rendering ------------------------------------------------------------------------


@pytest.mark.render
def test_render_a_path_returns_what_it_wrote_and_shows_a_player(sandbox):
    result = kldemo.render(CONFIGS / "asym-kl.yaml", output="lecture.mp4", quality="l", **TINY)
    assert result.path == Path("lecture.mp4") and Path(result).exists()
    assert (result.format, result.size, result.fps, result.status) == ("mp4", (160, 90), 5.0, "ok")
    assert result.frames == len(frames(result.path)) == round(result.duration * 5)
    assert result.segments == result.rendered > 0
    page = result._repr_html_()
    assert page.startswith('<video controls loop src="data:video/mp4;base64,')
    embedded = page.split("base64,", 1)[1].split('"', 1)[0]
    assert base64.b64decode(embedded) == result.path.read_bytes()
    assert 'src="lecture.mp4"' in result.html(embed=False)
    again = kldemo.render(CONFIGS / "asym-kl.yaml", output="lecture.mp4", quality="l", **TINY)
    assert (again.status, again.rendered, again.segments) == ("cached", 0, result.segments)


@pytest.mark.render
def test_render_a_dict_to_the_default_folder_layout_and_as_gif(sandbox):
    result = kldemo.render(CONFIG, output="out/talk.webm", format="webm", **TINY)
    assert result.path == Path("out/talk.webm") and result.path.exists()
    assert len(frames(result.path)) == result.frames == 14  # 2.8 s at 5 fps
    assert "<video controls" in result._repr_html_()
    gif = kldemo.render(CONFIG, output="preview.gif", **TINY)
    assert gif._repr_html_().startswith('<img src="data:image/gif;base64,')
    assert written(sandbox) == ["out", "out/talk.webm", "preview.gif"]


def test_a_fit_that_stops_early_is_a_fit_warning_not_a_print(monkeypatch, capsys):
    import kldemo.core.fit

    config = {
        "p": {"weights": [0.5, 0.5], "means": [0, 0.5], "stds": [1, 1]},
        "q": {"weights": [0.5, 0.5], "means": [-2, 2], "stds": [1, 1]},
        "keyframes": [{"fit": "reverse"}],
    }
    monkeypatch.setattr(kldemo.core.fit, "MAX_NEWTON_STEPS", 1)  # so that it stops short
    kldemo.core.fit.clear_cache()
    try:
        with pytest.warns(kldemo.FitWarning) as caught:
            kldemo.kl(config)
    finally:
        kldemo.core.fit.clear_cache()
    (warning,) = caught
    assert str(warning.message).startswith(
        "<dict>: keyframes[0]: fit: reverse stopped before converging (gradient "
    )
    assert warning.filename == __file__  # pointing at the caller's line
    assert capsys.readouterr() == ("", "")


@pytest.mark.render
def test_still_returns_a_png_that_shows_as_the_image(sandbox):
    from PIL import Image

    result = kldemo.still(CONFIGS / "asym-kl.yaml", at=1, **TINY)
    assert result.path == Path("media/asym-kl-1.png")
    assert Image.open(result.path).size == (160, 90) == result.size
    assert result._repr_png_() == result.path.read_bytes()
    assert result._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")
    from_dict = kldemo.still(CONFIG, at=1.2, output="frame.png", **TINY)
    assert Image.open(from_dict.path).format == "PNG"


@pytest.mark.render
def test_subtitles_and_vector_stills_are_keywords_too(sandbox):
    result = kldemo.render(CONFIG, output="talk.mp4", subtitles=True, **TINY)
    assert result.subtitles == (Path("talk.srt"), Path("talk.vtt"))
    assert "q moves" in Path("talk.srt").read_text(encoding="utf-8")
    figure = kldemo.still(CONFIG, at=1, output="fig.svg", bare=True, **TINY)
    assert figure._repr_png_() is None and "<svg" in figure._repr_svg_()
    captioned = kldemo.still(CONFIG, at=1, output="captioned.svg", **TINY)
    # bare leaves out the caption's glyphs (the text is drawn as paths)
    assert len(figure._repr_svg_()) < len(captioned._repr_svg_())
    with pytest.raises(UsageError, match="bare=1: must be True or False"):
        kldemo.still(CONFIG, at=1, output="fig.svg", bare=1)


# -- the notebook ---------------------------------------------------------------------


@pytest.mark.render
def test_the_docs_notebook_runs_and_shows_a_video_a_table_and_an_image(
    sandbox, monkeypatch: pytest.MonkeyPatch
):
    nbformat = pytest.importorskip(
        "nbformat", reason="nbformat is not installed (pip install -e '.[test]')"
    )
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed")
    # A kernel spec of this interpreter, found before any other named python3, so that the
    # notebook runs with the kldemo under test whatever `python` on PATH is.
    spec = sandbox / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(sandbox / "jupyter"))
    notebook = nbformat.read(REPO / "docs" / "notebook.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells)  # kept without outputs
    nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(sandbox)}}
    ).execute()
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert any(page.startswith("<video controls") for page in html)
    assert any(page.startswith("<table>") for page in html)
    images = [o.data["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1 and base64.b64decode(images[0]).startswith(b"\x89PNG")
    assert "<dict>: error: q.mena: unknown key 'mena'; did you mean 'mean'?" in text
    assert "media/notebook.mp4 " in text
    assert (sandbox / "media" / "notebook.mp4").exists()
    assert (sandbox / "media" / "notebook.png").exists()
