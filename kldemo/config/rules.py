"""Rules between the keys of one raw mixture mapping, worded for the file's author.

They run on the mapping before pydantic checks its values (see
:meth:`kldemo.config.spec.MixtureChangeSpec.rule_errors`), so they read raw YAML values.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticCustomError

from kldemo.config.values import is_number


def rule(key: str, value: Any, message: str) -> dict[str, Any]:
    # A rule broken at one key, in the form ValidationError.from_exception_data takes.
    return {
        "type": PydanticCustomError("rule", message),  # no context: the text is not formatted
        "loc": (key,),
        "input": value,
    }


def plane_keys(data: dict[Any, Any]) -> bool | None:
    """Whether a raw mixture mapping is written in 2-D (True), in 1-D (False), or says
    nothing of it (None): by its spreads (covs or stds), else by its means' form."""
    if "covs" in data or "cov" in data:
        return True
    if "stds" in data or "std" in data:
        return False
    means = data.get("means", [data["mean"]] if "mean" in data else None)
    forms = (
        [_is_pair(m) for m in means if is_number(m) or _is_pair(m)]
        if isinstance(means, list)
        else []
    )
    return forms[0] if forms else None


def _is_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2


def dimension_errors(data: dict[Any, Any]) -> list[Any]:
    """One mapping is on a line or in the plane: its means all numbers or all pairs, with
    stds for numbers and covs for pairs."""
    errors = []
    spreads = [key for key in ("stds", "std", "covs", "cov") if key in data]
    if any(k in spreads for k in ("stds", "std")) and any(k in spreads for k in ("covs", "cov")):
        errors.append(
            rule(spreads[-1], data[spreads[-1]], "give stds (1-D) or covs (2-D), not both")
        )
        return errors
    means = data.get("means", [data["mean"]] if "mean" in data else None)
    key = "means" if "means" in data else "mean"
    if not isinstance(means, list) or not means:
        return errors
    # Only the means that are numbers or pairs say which; any other is an error of its own.
    pairs = [isinstance(m, list) for m in means if is_number(m) or _is_pair(m)]
    if not pairs:
        return errors
    if any(pairs) and not all(pairs):
        errors.append(
            rule(key, data[key], "must be all numbers (1-D) or all pairs [x, y] (2-D), not both")
        )
    elif spreads:
        spread = spreads[0]
        if all(pairs) and spread in ("stds", "std"):
            errors.append(
                rule(
                    spread,
                    data[spread],
                    f"the means are pairs [x, y] (2-D), whose spread is a covariance: write "
                    f"{'cov' if spread == 'std' else 'covs'} instead of {spread}",
                )
            )
        elif not any(pairs) and spread in ("covs", "cov"):
            errors.append(
                rule(
                    spread,
                    data[spread],
                    f"the means are numbers (1-D), whose spread is a std: write "
                    f"{'std' if spread == 'cov' else 'stds'} instead of {spread}, or give the "
                    "means as pairs [x, y] for 2-D",
                )
            )
    return errors
