"""Read the exports of the billing system into dicts.

The exports are small and we want line numbers in error messages that match what the finance
team sees in their editor, so this is a tiny reader instead of the csv module.
"""

from __future__ import annotations


class CsvError(ValueError):
    """A line could not be parsed; carries the 1-based line number in the file."""

    def __init__(self, line_no: int, message: str) -> None:
        super().__init__(f"line {line_no}: {message}")
        self.line_no = line_no


def split_line(line: str, delimiter: str = ",", line_no: int = 1) -> list[str]:
    """Split one line of the export into its fields (surrounding blanks are not part of a field)."""
    return [field.strip() for field in line.split(delimiter)]


def read_rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    """Rows of an export as dicts keyed by the header line; blank lines are ignored."""
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not numbered:
        return []
    header_no, header_line = numbered[0]
    header = split_line(header_line, delimiter, header_no)
    rows = []
    for line_no, line in numbered[1:]:
        fields = split_line(line, delimiter, line_no)
        if len(fields) != len(header):
            raise CsvError(line_no, f"expected {len(header)} fields, got {len(fields)}")
        rows.append(dict(zip(header, fields)))
    return rows
