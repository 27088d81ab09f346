"""Write the bundled sample files beside this script, the same every run (a fixed seed).

- ``blobs.csv``: 400 points in the plane from two Gaussians well apart, header ``x,y``:
  240 around (-2.5, 0.5) (std 0.6, correlated 0.4) and 160 around (2.5, -0.5) (std 0.8).
- ``bimodal.csv``: 300 numbers from two Gaussians, header ``x``: 180 from N(-2, 0.7²) and
  120 from N(2.5, 1²).

Run: ``python configs/data/make_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 20240601
HERE = Path(__file__).resolve().parent


def blobs(rng: np.random.Generator) -> np.ndarray:
    """Two 2-D Gaussian blobs, (400, 2), in random order."""
    std = 0.6
    correlated = std**2 * np.array([[1.0, 0.4], [0.4, 1.0]])
    first = rng.multivariate_normal([-2.5, 0.5], correlated, size=240)
    second = rng.normal([2.5, -0.5], 0.8, size=(160, 2))
    return rng.permutation(np.concatenate([first, second]))


def bimodal(rng: np.random.Generator) -> np.ndarray:
    """Two 1-D Gaussians, (300, 1), in random order."""
    values = np.concatenate([rng.normal(-2.0, 0.7, 180), rng.normal(2.5, 1.0, 120)])
    return rng.permutation(values)[:, None]


def write_csv(path: Path, header: str, rows: np.ndarray) -> None:
    # Four decimals: readable files, far finer than the spread of the data.
    lines = [header, *(",".join(f"{v:.4f}" for v in row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    rng = np.random.default_rng(SEED)
    write_csv(HERE / "blobs.csv", "x,y", blobs(rng))
    write_csv(HERE / "bimodal.csv", "x", bimodal(rng))


if __name__ == "__main__":
    main()
