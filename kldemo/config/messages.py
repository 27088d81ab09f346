"""The wording of format errors: how a value reads, and each kind of error's message.

The messages say what was expected and what was found, in the file's own terms
(``must be > 0 (got -2)``). They know nothing of pydantic: :mod:`kldemo.config.load` maps
pydantic's error kinds onto :data:`MESSAGES`, and the specs word the rules of their own.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

MESSAGES = {  # by pydantic's error type; {got} is the value as the file writes it
    "float_type": "must be a number (got {got})",
    "int_type": "must be a whole number (got {got})",
    "string_type": "must be a string (got {got})",
    "bool_type": "must be true or false (got {got})",
    "list_type": "must be a list (got {got})",
    "tuple_type": "must be a list of two numbers, [low, high] (got {got})",
    "model_type": "must be a mapping of keys to values (got {got})",
    "dict_type": "must be a mapping of keys to values (got {got})",
    "finite_number": "must be a finite number (got {got})",
    "greater_than": "must be > {gt:g} (got {got})",
    "greater_than_equal": "must be >= {ge:g} (got {got})",
    "less_than": "must be < {lt:g} (got {got})",
    "less_than_equal": "must be <= {le:g} (got {got})",
    "too_short": "must have at least {min_length} item(s) (got {actual_length})",
    "too_long": "must have at most {max_length} items (got {actual_length})",
    "string_too_long": "must be at most {max_length} characters long",
}

SHOWN_MAX = 60  # a longer value is cut short in a message


def describe(value: Any) -> str:
    """How a value found in YAML reads in an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{value:g}" if isinstance(value, float) else str(value)


def shortened(shown: str) -> str:
    """A value's text, cut short when it would swamp the message."""
    if len(shown) > SHOWN_MAX:
        return f"{shown[:40]}... ({len(shown):,} characters)"
    return shown


def did_you_mean(given: str, known: list[str]) -> str | None:
    """The known name closest to a misspelt one, if one is close enough."""
    close = difflib.get_close_matches(given, known, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_key(key: str, known: list[str]) -> str:
    close = did_you_mean(key, known)
    hint = f"; did you mean {close!r}?" if close else f"; known keys: {', '.join(known)}"
    return f"unknown key {key!r}{hint}"


def not_a_choice(value: Any, expected: str, shown: str, *, easing: bool) -> str:
    """A value that is none of a field's choices (``expected`` as pydantic lists them).

    An easing has too many choices to list: its message points to ``kldemo easings``.
    """
    choices = re.findall(r"'([^']*)'", expected) or re.findall(r"\d+", expected)
    close = did_you_mean(value, choices) if isinstance(value, str) else None
    hint = f"; did you mean {close!r}?" if close else ""
    if isinstance(value, str):
        shown = repr(value)
    if easing:
        return f"unknown easing {shown}{hint} (`kldemo easings` lists them)"
    return f"must be one of {', '.join(choices)} (got {shown}){hint}"
