"""wordfreq: the most frequent words of text files.

    python3 wordfreq.py [--top N] [--min-length N] FILE [FILE ...]

Prints one line per word, most frequent first: the count right-aligned in 7 columns, a space,
the word.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Iterable


def words(text: str) -> list[str]:
    return text.split()


def count_words(texts: Iterable[str], min_length: int = 1) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w for w in words(text) if len(w) >= min_length)
    return counts


def top(counts: Counter[str], n: int) -> list[tuple[str, int]]:
    return counts.most_common(n)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wordfreq", description="Most frequent words of text files.")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=10, help="how many words to show (default 10)")
    parser.add_argument("--min-length", type=int, default=1, help="ignore shorter words")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    texts = [path.read_text(encoding="utf-8") for path in args.files]
    for word, count in top(count_words(texts, args.min_length), args.top):
        print(f"{count:>7} {word}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
