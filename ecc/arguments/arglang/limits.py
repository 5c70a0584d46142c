"""The argument language's limits and its one error for bad input (``ArgParseError``)."""

from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------
# Limits and errors


@dataclass(frozen=True)
class ArgLimits:
    """Upper bounds that keep every parse small and fast, whatever the user types."""

    max_chars: int = 65536  # length of the whole text; checked before any other work
    max_depth: int = 64  # nested brackets and constructor calls
    max_items: int = 100_000  # values inside brackets plus top-level arguments, in total
    max_string_chars: int = 65536  # decoded length of one string or byte string
    max_number_digits: int = 4000  # digits of one number (also inside decimal()/bigint()/...)

    def __post_init__(self) -> None:
        for name in ("max_chars", "max_depth", "max_items", "max_string_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"ArgLimits.{name} must be at least 1")
        # Python refuses to convert longer decimal strings to int (sys.int_info), so a higher
        # limit would only trade our clear error for an obscure one.
        if not 1 <= self.max_number_digits <= 4300:
            raise ValueError("ArgLimits.max_number_digits must be between 1 and 4300")


DEFAULT_LIMITS = ArgLimits()


class ArgParseError(ValueError):
    """The argument text cannot be read; says where (0-based ``position``, 1-based ``line`` and
    ``column``) and what to do about it. ``str(err)`` is ``"line L, column C: message"``."""

    message: str
    position: int
    line: int
    column: int
    line_text: str

    def __init__(
        self, message: str, position: int = 0, line: int = 1, column: int = 1, line_text: str = ""
    ) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message = message
        self.position = position
        self.line = line
        self.column = column
        self.line_text = line_text

    @classmethod
    def at(cls, text: str, position: int, message: str) -> ArgParseError:
        """The error for ``position`` in ``text`` (line, column and excerpt computed here)."""
        position = max(0, min(position, len(text)))
        line_start = text.rfind("\n", 0, position) + 1
        line_end = text.find("\n", position)
        if line_end < 0:
            line_end = len(text)
        line = text.count("\n", 0, position) + 1
        return cls(message, position, line, position - line_start + 1, text[line_start:line_end])

    def __reduce__(self) -> tuple[type[ArgParseError], tuple[str, int, int, int, str]]:
        return (type(self), (self.message, self.position, self.line, self.column, self.line_text))

    def excerpt(self) -> str:
        """The offending line with a caret under the column, like a compiler prints it."""
        text = self.line_text.rstrip("\r")
        index = self.column - 1
        window = 100
        start = 0
        if len(text) > window:  # a long line: show the part around the column only
            start = max(0, min(index - window // 2, len(text) - window))
            shown = text[start : start + window]
            text = ("…" if start else "") + shown + ("…" if start + window < len(text) else "")
            index = index - start + (1 if start else 0)
        # Tabs stay tabs under the line so the caret lines up in a terminal.
        pad = "".join("\t" if ch == "\t" else " " for ch in text[:index])
        return f"{text}\n{pad}^"


def _show(text: str, limit: int = 40) -> str:
    """``repr`` of user text, clipped so messages stay one readable line."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
