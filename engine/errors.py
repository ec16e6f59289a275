"""One error type for bad input, carrying the file, the field path and what is allowed.

The CLI turns a ``ScenarioError`` into one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations


class ScenarioError(Exception):
    """Bad input: names the file, the field path (dotted, list items as ``[i]``) and the rule."""

    def __init__(self, file: str, field: str, message: str) -> None:
        self.file = str(file)
        self.field = field
        self.message = message
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.file}: " if self.file else ""
        field = f"field '{self.field}': " if self.field else ""
        return f"{where}{field}{self.message}"
