"""Key bindings of the shell prompt: Enter runs a complete line and continues
an incomplete one (open quote, heredoc, trailing `\\`, `&&`, `|`, an `if`
with no `fi` yet) on a second prompt line, the way bash's reader does."""

from __future__ import annotations

from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import has_completions, has_focus
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from guardsh.parse.complete import incomplete


def bindings() -> KeyBindings:
    kb = KeyBindings()
    main = has_focus(DEFAULT_BUFFER)  # not the Ctrl-R search field

    @kb.add("enter", filter=main & has_completions)
    def _take_completion(event: KeyPressEvent) -> None:
        event.current_buffer.complete_state = None

    @kb.add("enter", filter=main & ~has_completions)
    def _enter(event: KeyPressEvent) -> None:
        buf = event.current_buffer
        if buf.document.is_cursor_at_the_end and incomplete(buf.text) is not None:
            buf.insert_text("\n")
        elif incomplete(buf.text) is not None:
            buf.cursor_position = len(buf.text)
            buf.insert_text("\n")
        else:
            buf.validate_and_handle()

    @kb.add("c-c", filter=main)
    def _discard(event: KeyPressEvent) -> None:
        """Ctrl-C at the prompt discards the line, as in bash."""
        event.app.exit(result="\x03")

    @kb.add("c-d", filter=main)
    def _eof(event: KeyPressEvent) -> None:
        """Ctrl-D on an empty line ends the shell; otherwise deletes a character."""
        buf = event.current_buffer
        if buf.text:
            buf.delete()
        else:
            event.app.exit(result="\x04")

    return kb
