"""Vector stills: ``kldemo still -o fig.svg`` / ``fig.pdf`` are real SVG and PDF documents of
the frame, drawn as paths (never a picture pasted in), ``--bare`` leaves out the title and
caption, and ``render`` still refuses those names."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import kldemo

SVG = "{http://www.w3.org/2000/svg}"
TITLE = "Mode seeking"
BODY = """\
p: {means: [-1.5, 1.5], stds: [0.5, 0.5]}
q: {mean: 0, std: 1}
defaults: {duration: 1, hold: 0.4}
view: {x_range: [-4, 4], y_range: [0, 1]}
style: {bar_max: 10}
keyframes:
  - q: {mean: 1.5, std: 0.5}
"""
AT = "1.2"  # in the hold, while the caption shows
SIZE = (160, 90)
PAGE = (460.8, 259.2)  # points: 6.4 in wide, the frame's 16:9
TEXT_FILL = "rgb(92.54902%,92.54902%,94.509804%)"  # the dark theme's text colour, #ECECF1


def _config(folder: Path, name: str, texts: bool) -> Path:
    body = BODY
    if texts:
        body = f"title: {TITLE}\n{body}    caption: q settles on one mode\n"
    path = folder / name
    path.write_text(body)
    return path


def _still(config: Path, output: Path, *extra: str) -> Path:
    result = kldemo(
        "still",
        config,
        "--at",
        AT,
        "-o",
        output,
        "-r",
        ",".join(map(str, SIZE)),
        "--fps",
        "5",
        "--labels",
        "text",
        *extra,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {output}\n"
    assert "Traceback" not in result.stderr
    return output


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> dict[str, Path]:
    """One frame as SVG, PDF and PNG; bare; transparent; and the config without its texts."""
    folder = tmp_path_factory.mktemp("vector")
    full = _config(folder, "full.yaml", texts=True)
    plain = _config(folder, "plain.yaml", texts=False)
    return {
        "svg": _still(full, folder / "fig.svg"),
        "pdf": _still(full, folder / "fig.pdf"),
        "png": _still(full, folder / "fig.png"),
        "bare": _still(full, folder / "bare.svg", "--bare"),
        "bare_pdf": _still(full, folder / "bare.pdf", "--bare"),
        "clear": _still(full, folder / "clear.svg", "-t"),
        "plain": _still(plain, folder / "plain.svg"),
    }


def _paths(svg: Path) -> list[ET.Element]:
    root = ET.parse(svg).getroot()
    return list(root.iter(f"{SVG}path"))


def _coordinates(path: ET.Element) -> int:
    return len(re.findall(r"-?\d+(?:\.\d+)?", path.get("d", "")))


def _fill(path: ET.Element) -> str | None:
    found = re.search(r"fill:(rgb\([^)]*\))", path.get("style", ""))
    return found.group(1) if found else None


def test_the_svg_is_an_svg_of_the_frames_aspect_made_of_paths(figures):
    root = ET.parse(figures["svg"]).getroot()
    assert root.tag == f"{SVG}svg"
    width, height = (float(root.get(side).removesuffix("pt")) for side in ("width", "height"))
    assert (width, height) == pytest.approx(PAGE)
    assert root.get("width").endswith("pt")  # a page size, as LaTeX and editors read it
    paths = _paths(figures["svg"])
    assert len(paths) > 30
    # The density curves are polylines of hundreds of points, not pictures.
    assert sum(_coordinates(p) > 50 for p in paths) >= 2
    assert not list(root.iter(f"{SVG}image")), "something was rasterised"
    assert not list(root.iter(f"{SVG}text")), "text comes out as paths"
    # The theme's background fills the page.
    (background,) = root.iter(f"{SVG}rect")
    assert float(background.get("width")) == pytest.approx(width)
    assert "fill:rgb(5.882353%,5.882353%,7.843137%)" in background.get("style")  # #0F0F14


def _pdf_streams(pdf: bytes) -> list[bytes]:
    streams = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            streams.append(zlib.decompress(raw))
        except zlib.error:
            streams.append(raw)
    return streams


def test_the_pdf_is_one_page_of_the_frames_aspect_drawn_with_paths(figures):
    pdf = figures["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    (box,) = re.findall(rb"/MediaBox\s*\[\s*([^\]]*)\]", pdf)
    assert [float(v) for v in box.split()] == pytest.approx([0, 0, *PAGE])
    assert not re.search(rb"/Subtype\s*/Image", pdf), "something was rasterised"
    content = b"\n".join(_pdf_streams(pdf))
    # Path operators: line-to (l) and curve-to (c), many of them.
    assert len(re.findall(rb"\sl(?=\s)", content)) > 200
    assert len(re.findall(rb"\sc(?=\s)", content)) > 50
    assert f"/Title ({TITLE})".encode() in pdf  # the metadata, for readers' title bars


def test_bare_leaves_out_the_title_and_caption(figures):
    full, bare = _paths(figures["svg"]), _paths(figures["bare"])
    assert len(bare) < len(full)
    # The title's glyphs are set in the theme's text colour: one path each.
    glyphs = len(TITLE.replace(" ", ""))
    text = [sum(_fill(p) == TEXT_FILL for p in paths) for paths in (full, bare)]
    assert text[0] - text[1] == glyphs

    # And bare is exactly the figure of the config written without title and caption: the
    # layout gives their room to the plot (the surface's serial number aside).
    def normal(path: Path) -> str:
        return re.sub(r'id="surface\d+"', "", path.read_text())

    assert normal(figures["bare"]) == normal(figures["plain"])
    assert normal(figures["bare"]) != normal(figures["svg"])
    # A bare PDF still carries the config's title in its metadata (not on the page).
    bare_pdf = figures["bare_pdf"].read_bytes()
    assert f"/Title ({TITLE})".encode() in bare_pdf
    assert len(bare_pdf) < figures["pdf"].stat().st_size


def test_transparent_leaves_out_the_background(figures):
    root = ET.parse(figures["clear"]).getroot()
    assert not list(root.iter(f"{SVG}rect"))
    assert len(_paths(figures["clear"])) == len(_paths(figures["svg"]))


def _difference(rendered: Path, png: Path) -> tuple[float, float]:
    """The mean difference of two pictures, and the largest of their 5x5 blocks' means: edges
    antialiased a little differently move the first a little and the second hardly; a part
    drawn in the wrong colour or place moves the second by far."""
    a = np.asarray(Image.open(rendered).convert("RGB"), dtype=float)
    b = np.asarray(Image.open(png).convert("RGB"), dtype=float)
    assert a.shape == b.shape
    h, w = (side - side % 5 for side in a.shape[:2])

    def blocks(x: np.ndarray) -> np.ndarray:
        return x[:h, :w].reshape(h // 5, 5, w // 5, 5, 3).mean(axis=(1, 3))

    return float(np.abs(a - b).mean()), float(np.abs(blocks(a) - blocks(b)).max())


@pytest.mark.parametrize("kind, tool", [("pdf", "pdftoppm"), ("svg", "rsvg-convert")])
def test_the_figure_drawn_back_to_pixels_is_the_frame(figures, tmp_path, kind, tool):
    """Rasterised by another program, the figure is the PNG still of the same frame."""
    if shutil.which(tool) is None:
        pytest.skip(
            f"{tool} is not installed (poppler-utils / librsvg2-bin): nothing here "
            f"draws a {kind.upper()} back to pixels"
        )
    width, height = SIZE
    out = tmp_path / "back.png"
    if tool == "pdftoppm":
        command = [
            tool,
            "-png",
            "-singlefile",
            "-scale-to-x",
            str(width),
            "-scale-to-y",
            str(height),
            str(figures[kind]),
            str(out.with_suffix("")),
        ]
    else:
        command = [tool, "-w", str(width), "-h", str(height), str(figures[kind]), "-o", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    mean, block = _difference(out, figures["png"])
    # Measured: SVG 0.02 and 1.0 (librsvg draws with Cairo too), PDF 3.2 and 23 (poppler's
    # own antialiasing); with red and blue swapped, 4.2 to 7 and over 190.
    assert mean < 4 and block < 64, (mean, block)


@pytest.mark.parametrize("name", ["fig.svg", "fig.pdf"])
def test_render_refuses_vector_names(tmp_path, name):
    config = _config(tmp_path, "steps.yaml", texts=False)
    result = kldemo("render", config, "-o", tmp_path / name, "--progress", "none")
    assert result.returncode == 2
    assert result.stderr == (
        f"kldemo: error: -o {tmp_path / name}: kldemo cannot write {Path(name).suffix} files; "
        "render writes mp4, mov, webm, gif or png (png: the last frame), named by its suffix; "
        f"for a vector figure: kldemo still CONFIG --at T -o {name}\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.yaml"]


def test_a_still_named_otherwise_lists_the_vector_formats(tmp_path):
    config = _config(tmp_path, "steps.yaml", texts=False)
    result = kldemo("still", config, "--at", "0", "-o", tmp_path / "fig.eps")
    assert result.returncode == 2
    assert result.stderr == (
        f"kldemo: error: -o {tmp_path / 'fig.eps'}: kldemo cannot write "
        f".eps files; still writes png, svg or pdf: name it "
        f"{tmp_path / 'fig.png'}\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.yaml"]
