"""Text being parsed, and how its offsets map back to the line as typed.

Nested shell text (`bash -c '...'`, an alias body, a remote `ssh` command)
is parsed on its own; its evidence must still point into the user's line.
Where the nested text is a verbatim slice of the line, offsets shift; where it
was unquoted or assembled, every span falls back to the enclosing word.
"""

from __future__ import annotations

from dataclasses import dataclass

from guardsh.model import Span


@dataclass(frozen=True, slots=True)
class Source:
    text: str
    data: bytes
    shift: int | None  # line offset of text[exact_from:], when verbatim
    fallback: Span  # where unmappable offsets point
    exact_from: int = 0  # offsets below this map to `fallback`
    char_of: tuple[int, ...] | None = None  # byte -> char index, non-ASCII text

    @classmethod
    def of(
        cls, text: str, shift: int | None = 0, fallback: Span | None = None, exact_from: int = 0
    ) -> Source:
        data = text.encode("utf-8", "surrogateescape")
        char_of = None
        if len(data) != len(text):
            table = []
            for i, ch in enumerate(text):
                table.extend([i] * len(ch.encode("utf-8", "surrogateescape")))
            table.append(len(text))
            char_of = tuple(table)
        return cls(text, data, shift, fallback or Span(0, len(text)), exact_from, char_of)

    def char(self, byte: int) -> int:
        if self.char_of is None:
            return byte
        return self.char_of[min(byte, len(self.char_of) - 1)]

    def slice(self, start_byte: int, end_byte: int) -> str:
        return self.data[start_byte:end_byte].decode("utf-8", "surrogateescape")

    def span(self, start_byte: int, end_byte: int) -> Span:
        """The span of the line that bytes [start, end) of this text came from."""
        s, e = self.char(start_byte), self.char(end_byte)
        if self.shift is None or e <= self.exact_from:
            return self.fallback
        if s < self.exact_from:
            return Span(self.fallback.start, e + self.shift)
        return Span(s + self.shift, e + self.shift)
