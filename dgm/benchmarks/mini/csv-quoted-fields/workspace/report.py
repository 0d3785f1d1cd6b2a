"""Totals per customer from a billing export (amounts in cents, column `amount_cents`)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from csvlite import CsvError, read_rows


def totals_by_customer(text: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in read_rows(text):
        try:
            totals[row["customer"]] += int(row["amount_cents"])
        except ValueError as exc:
            raise ValueError(f"bad amount for {row['customer']!r}: {row['amount_cents']!r}") from exc
    return dict(totals)


def format_report(totals: dict[str, int]) -> str:
    lines = [f"{name:<30} {cents / 100:>10.2f}" for name, cents in sorted(totals.items())]
    return "\n".join(lines)


def main(path: str) -> int:
    try:
        print(format_report(totals_by_customer(Path(path).read_text(encoding="utf-8"))))
    except CsvError as exc:
        print(f"{path}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1]))
