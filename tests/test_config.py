"""The keyframe format: every rule, with the whole message it gives."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from kldemo.errors import ConfigError
from kldemo.timeline import load

VALID = """
p: {means: [4, 6], stds: [0.75, 0.75]}
q: {mean: 5, std: 1}
"""


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return [str(d).replace(f"{path}", "FILE") for d in caught.value.diagnostics]


def test_a_minimal_file_is_valid(write_config):
    config = load(write_config(VALID)).config.model
    assert config.p.given() == {"means": [4, 6], "stds": [0.75, 0.75]}
    assert config.q.given() == {"means": [5], "stds": [1]}
    assert config.keyframes == []
    assert config.defaults.easing == "smooth"


def test_the_specs_example_is_valid(write_config):
    path = write_config("""
        title: KL divergence is asymmetric
        p:
          weights: [0.5, 0.5]
          means: [4, 6]
          stds: [0.75, 0.75]
        q:
          mean: 5
          std: 1
        defaults:
          duration: 2.75
          hold: 0.75
          easing: smooth
        view:
          x_range: [-1, 10]
          y_range: [0, 1.0]
        style:
          theme: dark
          p_color: "#58C4DD"
          q_color: "#83C167"
          labels: auto
          bar_max: auto
        keyframes:
          - p: {means: [2, 8]}
          - q: {mean: 2}
            caption: q sits on one mode
          - q: {std: 0.7}
            duration: 1.5
            hold: 0
            easing: linear
          - {}
        """)
    config = load(path).config.model
    assert len(config.keyframes) == 4
    assert config.keyframes[2].easing == "linear"
    assert config.style.p_color == "#58C4DD"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "p: {means: [4, 6], stds: [0.75, -2]}\nq: {mean: 5, std: 1}\n",
            ["FILE:1:33: error: p.stds[1]: must be > 0 (got -2)"],
            id="negative-std",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [0.75, 0]}\nq: {mean: 5, std: 1}\n",
            ["FILE:1:33: error: p.stds[1]: must be > 0 (got 0)"],
            id="zero-std",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [1, 1], weights: [0.5, 0.4]}\nq: {mean: 5, std: 1}\n",
            [
                "FILE:1:43: error: p.weights: must sum to 1 (they sum to 0.9); "
                "leave weights out for equal weights"
            ],
            id="weights-sum",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [1, 1], weights: [1.5, -0.5]}\nq: {mean: 5, std: 1}\n",
            [
                "FILE:1:44: error: p.weights[0]: must be <= 1 (got 1.5)",
                "FILE:1:49: error: p.weights[1]: must be >= 0 (got -0.5)",
            ],
            id="weights-range",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [1]}\nq: {mean: 5, std: 1}\n",
            [
                "FILE:1:26: error: p.stds: weights, means and stds must have one length "
                "(got 2 means, 1 stds)"
            ],
            id="length-mismatch",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [1, 1]}\nq: {mena: 5, std: 1}\n",
            ["FILE:2:5: error: q.mena: unknown key 'mena'; did you mean 'mean'?"],
            id="did-you-mean",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [1, 1]}\nq: {mean: 5, std: 1}\nzzz: 1\n",
            [
                "FILE:3:1: error: zzz: unknown key 'zzz'; known keys: version, title, p, q, "
                "defaults, view, style, panels, keyframes"
            ],
            id="unknown-top-key",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [1, 1]}\nq: {mean: '5', std: 1}\n",
            ["FILE:2:11: error: q.mean: must be a number (got the string '5')"],
            id="string-number",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [1, 1]}\nq: {mean: true, std: 1}\n",
            ["FILE:2:11: error: q.mean: must be a number (got true)"],
            id="bool-number",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [1, 1]}\nq: {mean: 5, std: null}\n",
            ["FILE:2:19: error: q.std: must not be null; leave the key out instead"],
            id="null",
        ),
        pytest.param(
            "p: {means: [4, .nan], stds: [1, 1]}\nq: {mean: 5, std: 1e400}\n",
            [
                "FILE:1:16: error: p.means[1]: must be a finite number (got .nan)",
                "FILE:2:19: error: q.std: must be a finite number (got 1e400)",
            ],
            id="non-finite",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [1, 1]}\nq: {mean: 5}\n",
            ["FILE:2:4: error: q: needs stds (or std)"],
            id="missing-std",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [1, 1]}\n",
            ["FILE:1:1: error: missing required key 'q'"],
            id="missing-q",
        ),
        pytest.param(
            "p: {means: [4, 6], stds: [1, 1]}\nq: {mean: 5, means: [5], std: 1}\n",
            ["FILE:2:11: error: q.mean: give either mean (one Gaussian) or means, not both"],
            id="mixed-shorthand",
        ),
        pytest.param(
            "p: {mean: 0, stds: [1, 2]}\nq: {means: [0, 1], std: 1, weights: [0.5, 0.5]}\n",
            [
                "FILE:1:11: error: p.mean: mean is shorthand for one Gaussian and cannot be mixed "
                "with stds in one mapping: write means: [0] instead, or use mean and std alone",
                "FILE:2:25: error: q.std: std is shorthand for one Gaussian and cannot be mixed "
                "with means or weights in one mapping: write stds: [1] instead, or use mean and "
                "std alone",
            ],
            id="shorthand-mixed-with-lists",
        ),
        pytest.param(
            VALID + "keyframes:\n  - q: {mean: 2, stds: [1]}\n",
            [
                "FILE:4:15: error: keyframes[0].q.mean: mean is shorthand for one Gaussian and "
                "cannot be mixed with stds in one mapping: write means: [2] instead, or use mean "
                "and std alone"
            ],
            id="shorthand-mixed-in-a-keyframe",
        ),
        pytest.param(
            "p: {means: [0, 1, 2], stds: [1, 1], weights: [0.5, 0.4, 0.3]}\n"
            "q: {mean: 5, std: -1}\n",
            [
                "FILE:1:29: error: p.stds: weights, means and stds must have one length (got 3 "
                "weights, 3 means, 2 stds)",
                "FILE:1:46: error: p.weights: must sum to 1 (they sum to 1.2); leave weights out "
                "for equal weights",
                "FILE:2:19: error: q.std: must be > 0 (got -1)",
            ],
            id="every-error-of-one-mixture",
        ),
        pytest.param(
            "p: {means: [0, 1], stds: [1, -1], weights: [0.5, 0.4], mean: 3}\n"
            "q: {mean: 5, std: 1}\n",
            [
                "FILE:1:30: error: p.stds[1]: must be > 0 (got -1)",
                "FILE:1:44: error: p.weights: must sum to 1 (they sum to 0.9); leave weights out "
                "for equal weights",
                "FILE:1:62: error: p.mean: give either mean (one Gaussian) or means, not both",
            ],
            id="key-errors-and-rules-together",
        ),
        pytest.param(
            "p: {means: [0, 1], stds: [1, 1], weights: [0.5, 0.499]}\nq: {mean: 5, std: 1}\n",
            [
                "FILE:1:43: error: p.weights: must sum to 1 (they sum to 0.999); leave weights out "
                "for equal weights"
            ],
            id="weights-off-by-1e-3",
        ),
        pytest.param(
            VALID + "defaults: {duration: 0, hold: -1, easing: smoth}\n",
            [
                "FILE:3:22: error: defaults.duration: must be > 0 (got 0)",
                "FILE:3:31: error: defaults.hold: must be >= 0 (got -1)",
                "FILE:3:43: error: defaults.easing: unknown easing 'smoth'; did you mean 'smooth'? "
                "(`kldemo easings` lists them)",
            ],
            id="defaults",
        ),
        pytest.param(
            VALID + "view: {x_range: [10, -1]}\n",
            ["FILE:3:17: error: view.x_range: must go up: [low, high] (got [10, -1])"],
            id="reversed-range",
        ),
        pytest.param(
            VALID + "style: {theme: blue, p_color: blu, bar_max: -1, labels: latex}\n",
            [
                "FILE:3:16: error: style.theme: must be one of dark, light (got 'blue')",
                "FILE:3:31: error: style.p_color: must be a colour: '#RRGGBB', '#RGB' or a name "
                "such as BLUE (got the string 'blu')",
                "FILE:3:45: error: style.bar_max: must be auto or a number of nats > 0 (got -1)",
                "FILE:3:57: error: style.labels: must be one of auto, tex, text (got 'latex'); "
                "did you mean 'tex'?",
            ],
            id="style",
        ),
        pytest.param(
            VALID + "keyframes:\n  - q: {std: 1e-4}\n",
            ["FILE:4:14: error: keyframes[0].q.std: must be between 1e-3 and 1e3 (got 0.0001)"],
            id="std-range",
        ),
        pytest.param(
            VALID + "keyframes:\n  - p: {means: [1, 2, 3], stds: [1, 1, 1]}\n",
            [
                "FILE:4:16: error: keyframes[0].p.means: p has 2 component(s); a keyframe cannot "
                "change that (got 3)",
                "FILE:4:33: error: keyframes[0].p.stds: p has 2 component(s); a keyframe cannot "
                "change that (got 3)",
            ],
            id="component-count",
        ),
        pytest.param(
            VALID + "keyframes:\n  - p: {mean: 3}\n",
            [
                "FILE:4:15: error: keyframes[0].p.mean: mean is shorthand for one Gaussian, but p "
                "has 2 components: use means"
            ],
            id="shorthand-for-mixture",
        ),
        pytest.param(
            VALID + "keyframes:\n  - q: {std: 0.01}\n    easing: ease_in_out_back\n",
            [
                "FILE:5:13: error: keyframes[0].easing: 'ease_in_out_back' overshoots (to 110% of "
                "the way), which takes q.stds to -0.0891, below 0.001 on the way; choose an easing "
                "that stays within [0, 1]"
            ],
            id="overshoot",
        ),
        pytest.param(
            VALID + "keyframes:\n  - {duration: 3000}\n  - {duration: 3000}\n",
            [
                "FILE:4:3: error: keyframes: the video would last 6,001 s; the limit is one hour "
                "(3600 s)"
            ],
            id="too-long",
        ),
        pytest.param(
            VALID + "defaults: {hold: 0}\n",
            [
                "FILE:3:18: error: defaults.hold: with no keyframes the initial state is held for "
                "defaults.hold seconds, so it must be > 0"
            ],
            id="empty-still",
        ),
        pytest.param(
            VALID + "keyframes:\n  - {caption: [x], durration: 2}\n",
            [
                "FILE:4:15: error: keyframes[0].caption: must be a string (got a list)",
                "FILE:4:20: error: keyframes[0].durration: unknown key 'durration'; did you mean "
                "'duration'?",
            ],
            id="keyframe-keys",
        ),
        pytest.param(
            VALID + "keyframes:\n  - fit: reverse\n    q: {mean: 3}\n  - fit: forward\n"
            "    p: {means: [1, 2]}\n",
            [
                "FILE:5:8: error: keyframes[0].q: a fit keyframe moves q itself, so it cannot also "
                "set q; make the change a keyframe of its own",
                "FILE:7:8: error: keyframes[1].p: a fit keyframe moves q itself, so it cannot also "
                "set p; make the change a keyframe of its own",
            ],
            id="fit-with-p-or-q",
        ),
        pytest.param(
            VALID + "keyframes:\n  - fit: backwards\n  - {q: {mean: 3}, optimize: [means]}\n",
            [
                "FILE:4:10: error: keyframes[0].fit: must be one of forward, reverse (got "
                "'backwards')",
                "FILE:5:30: error: keyframes[1].optimize: optimize belongs to a fit keyframe: add "
                "fit: forward or fit: reverse, or remove optimize",
            ],
            id="fit-direction-and-stray-optimize",
        ),
        pytest.param(
            VALID + "keyframes:\n  - {fit: forward, optimize: [mean, stds]}\n"
            "  - {fit: forward, optimize: [stds, stds]}\n"
            "  - {fit: forward, optimize: []}\n",
            [
                "FILE:4:31: error: keyframes[0].optimize[0]: must be one of means, stds, "
                "covs, weights (got "
                "'mean'); did you mean 'means'?",
                "FILE:5:30: error: keyframes[1].optimize: 'stds' is listed twice; name each "
                "parameter "
                "once",
                "FILE:6:30: error: keyframes[2].optimize: must have at least 1 item(s) (got 0)",
            ],
            id="fit-optimize-names",
        ),
        pytest.param(
            VALID + "keyframes:\n  - {fit: reverse, optimize: [means, weights]}\n",
            [
                "FILE:4:30: error: keyframes[0].optimize: q is one Gaussian, whose weight is "
                "always "
                "1: leave weights out of optimize"
            ],
            id="fit-weights-of-one-gaussian",
        ),
        pytest.param(
            VALID + "defaults: {easing: ease_in_out_back}\nkeyframes:\n  - fit: reverse\n"
            "  - fit: forward\n    easing: running_start\n",
            [
                "FILE:5:5: error: keyframes[0].easing: 'ease_in_out_back' (from defaults.easing) "
                "overshoots (to -10% of the way), but a fit's path has nothing beyond q's "
                "start and "
                "the optimum; set an easing on this keyframe that stays within [0, 1]",
                "FILE:7:13: error: keyframes[1].easing: 'running_start' overshoots (to -18% of the "
                "way), but a fit's path has nothing beyond q's start and the optimum; choose "
                "one that "
                "stays within [0, 1]",
            ],
            id="fit-overshooting-easing",
        ),
        pytest.param(
            "p: {means: [-9000, 9000], stds: [1, 1]}\nq: {mean: 0, std: 1}\nkeyframes:\n"
            "  - fit: forward\n",
            [
                "FILE:4:10: error: keyframes[0].fit: the forward fit takes q.stds to 9e+03, "
                "above 1000 on its way to the optimum; change p or q's start so that it stays in "
                "range"
            ],
            id="fit-leaves-the-range",
        ),
        pytest.param(
            VALID + "style: {bars: [forward, kl, js], markers: 1}\npanels: [integrand, trase]\n",
            [
                "FILE:3:25: error: style.bars[1]: must be one of forward, reverse, js, tv, "
                "hellinger "
                "(got 'kl')",
                "FILE:3:43: error: style.markers: must be true or false (got 1)",
                "FILE:4:21: error: panels[1]: must be one of integrand, trace (got 'trase'); "
                "did you "
                "mean 'trace'?",
            ],
            id="bars-markers-panels",
        ),
        pytest.param(
            VALID + "style: {bars: []}\npanels: [trace, trace]\n",
            [
                "FILE:3:15: error: style.bars: must have at least 1 item(s) (got 0)",
                "FILE:4:9: error: panels: 'trace' is listed twice; name each panel once",
            ],
            id="bars-and-panels-lists",
        ),
        pytest.param(
            "- 1\n- 2\n",
            [
                "FILE:1:1: error: the top level must be a mapping with keys such as p, q and "
                "keyframes (got a list)"
            ],
            id="top-level-list",
        ),
    ],
)
def test_each_rule_gives_its_whole_message(write_config, text, expected):
    assert errors_of(write_config(text)) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            b"",
            "FILE: error: the file is empty: a config needs at least p and q "
            "(`kldemo init` writes one)",
            id="empty",
        ),
        pytest.param(
            b"# only a comment\n",
            "FILE: error: the file is empty: a config needs at "
            "least p and q (`kldemo init` writes one)",
            id="comment-only",
        ),
        pytest.param(
            b"p:\n\tmeans: [1]\n",
            "FILE:2:1: error: a tab in the indentation: YAML indents with spaces only",
            id="tab",
        ),
        pytest.param(
            b"p: {means: [1, 2}\n",
            "FILE:1:17: error: invalid YAML: did not find "
            "expected ',' or ']' while parsing a flow sequence; close each [ and { "
            "that is opened, with commas between items",
            id="syntax",
        ),
        pytest.param(
            b"title: caf\xe9\n",
            "FILE:1:11: error: byte 0xe9 is not UTF-8: save the file as UTF-8",
            id="not-utf8",
        ),
        pytest.param(
            b"p: 1\np: 2\n",
            "FILE:2:1: error: p: duplicate key 'p' (first given on line 1)",
            id="duplicate-key",
        ),
        pytest.param(
            b"p: !!python/object/apply:os.system ['echo hacked']\n",
            "FILE:1:4: error: p: the tag !!python/object/apply:os.system is not "
            "allowed: kldemo reads plain YAML (mappings, lists, numbers, strings, "
            "booleans)",
            id="object-tag",
        ),
        pytest.param(
            b"a: 1\n---\nb: 2\n",
            "FILE:3:1: error: found a second YAML document "
            "(after '---'); put one config in each file",
            id="two-documents",
        ),
    ],
)
def test_unreadable_files_are_named_with_their_line(tmp_path, data, expected):
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    assert errors_of(path) == [expected]


def test_an_alias_bomb_is_refused_without_expanding_it(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    errors = errors_of(path)
    assert len(errors) == 1
    assert "more than 200,000 values (an alias bomb?)" in errors[0]


def test_a_file_over_one_mib_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * (1 << 20) + "\n")
    assert errors_of(path) == [
        "FILE: error: the file is 1,048,579 bytes; kldemo reads config "
        "files up to 1 MiB (1,048,576 bytes): is it the right file?"
    ]


def test_limits_on_components_and_keyframes(write_config):
    seventeen = ", ".join(["1"] * 17)
    path = write_config(
        f"p: {{means: [{seventeen}], stds: [{seventeen}]}}\n"
        f"q: {{mean: 0, std: 1}}\n"
        "keyframes:\n" + "  - {duration: 0.1, hold: 0}\n" * 1001
    )
    assert errors_of(path) == [
        "FILE:1:12: error: p.means: must have at most 16 items (got 17)",
        "FILE:1:71: error: p.stds: must have at most 16 items (got 17)",
        "FILE:4:3: error: keyframes: must have at most 1000 items (got 1001)",
    ]


def test_numbers_written_with_an_exponent_are_numbers(write_config):
    config = load(write_config("p: {mean: 0, std: 1e-3}\nq: {mean: 1E2, std: 2e+1}\n")).config.model
    assert config.p.std == 1e-3
    assert config.q.mean == 100.0


def test_named_and_short_colours_are_written_out(write_config):
    config = load(write_config(VALID + "style: {p_color: blue, q_color: '#abc'}\n")).config.model
    assert config.style.p_color == "#58C4DD"
    assert config.style.q_color == "#AABBCC"


def _kl_json(path: Path) -> list[dict]:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "kldemo", "kl", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)["rows"]


def test_weights_off_by_rounding_are_normalised_so_equal_mixtures_have_zero_kl(write_config):
    near = write_config(
        "p: {weights: [0.5, 0.5000000009], means: [0, 1], stds: [1, 1]}\n"
        "q: {weights: [0.5, 0.5], means: [0, 1], stds: [1, 1]}\n"
    )
    (row,) = _kl_json(near)
    assert math.fsum(row["p"]["weights"]) == pytest.approx(1, abs=2e-16)
    for key in ("forward_kl", "reverse_kl"):
        assert 0 <= row[key] < 1e-15, (key, row[key])


def test_three_weights_of_a_third_written_short_are_the_uniform_mixture(write_config):
    body = "means: [0, 1, 3], stds: [1, 0.5, 2]}\nq: {mean: 1, std: 1.5}\n"
    short = _kl_json(
        write_config("p: {weights: [0.3333333, 0.3333333, 0.3333333], " + body, name="short.yaml")
    )
    uniform = _kl_json(write_config("p: {" + body, name="uniform.yaml"))
    for key in ("forward_kl", "reverse_kl"):
        assert short[0][key] == pytest.approx(uniform[0][key], rel=1e-13, abs=0)


def test_weights_within_1e6_of_one_are_accepted_and_a_larger_miss_is_not(write_config):
    body = "means: [0, 1], stds: [1, 1]}\nq: {mean: 0, std: 1}\n"
    load(write_config("p: {weights: [0.5, 0.5000009], " + body))
    with pytest.raises(ConfigError, match=r"sum to 1\.000002"):
        load(write_config("p: {weights: [0.5, 0.500002], " + body))


def test_every_key_of_the_schema_has_a_description_and_an_example():
    from kldemo.config.schema import json_schema

    schema = json_schema()
    bare = [
        f"{name}.{key}"
        for name, model in [("Config", schema), *schema["$defs"].items()]
        for key, prop in model.get("properties", {}).items()
        if not prop.get("description") or not prop.get("examples")
    ]
    assert bare == []
