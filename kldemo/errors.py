"""Errors a user can act on: each names the file, the place in it, and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in one file, printed as ``FILE:LINE:COL: error: PATH: MESSAGE``.

    ``line`` and ``column`` are 1-based, or None where the problem has no place in the
    text (a file that is too large, say); ``path`` is where in the document, such as
    ``keyframes[2].q.std``, or empty for the document as a whole.
    """

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        what = f"{self.path}: {self.message}" if self.path else self.message
        return f"{where}: error: {what}"


MAX_REPORTED = 100  # errors shown per file; past that, one line says how many more


class ConfigError(Exception):
    """A config file that cannot be used, with every problem found in it (up to 100).

    ``total`` is the number found when only some were worded and passed in; the problems
    not shown are counted in a last line.
    """

    def __init__(self, diagnostics: list[Diagnostic], total: int | None = None):
        shown = sorted(diagnostics, key=_reading_order)[:MAX_REPORTED]
        more = max(len(diagnostics), total or 0) - len(shown)
        if more > 0:
            shown.append(
                Diagnostic(
                    shown[-1].file,
                    None,
                    None,
                    "",
                    (
                        f"{more:,} more error(s) not shown; fix these first, then check the "
                        "file again"
                    ),
                )
            )
        self.diagnostics = shown
        super().__init__("\n".join(map(str, self.diagnostics)))

    @classmethod
    def single(
        cls,
        file: str | Path,
        message: str,
        line: int | None = None,
        column: int | None = None,
        path: str = "",
    ) -> ConfigError:
        return cls([Diagnostic(str(file), line, column, path, message)])


def _reading_order(d: Diagnostic) -> tuple[int, int, str]:
    return (d.line or 0, d.column or 0, d.path)


class RenderError(Exception):
    """A render that failed for a reason other than the config (exit status 1)."""


class OutputError(RenderError):
    """An output that cannot be written; the message names it and says what to do (exit 1)."""


class UsageError(Exception):
    """Options that cannot work together, found before anything is rendered (exit 2)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, unwound like Ctrl-C so that every cleanup runs, then exit 143."""


# The exit statuses of every command: written once, read by the CLI, the batch and watch.
EXIT_OK = 0
EXIT_FAILED = 1  # a render failed, or an output could not be written
EXIT_BAD_INPUT = 2  # a config that is not valid, or options that cannot work
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM)
