"""Pagination for the admin list views: which items are on a page, and the page links to show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, TypeVar

T = TypeVar("T")


class PageOutOfRange(ValueError):
    """The requested page number does not exist for this list."""


@dataclass(frozen=True)
class Page:
    items: list
    number: int        # 1-based
    total_pages: int
    total_items: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.total_pages

    @property
    def first_index(self) -> int:
        """1-based position of the first item on this page, as shown in "items 11-20 of 25"."""
        return (self.number - 1) * len(self.items) + 1 if self.items else 0


def page_count(total_items: int, per_page: int) -> int:
    """Number of pages; an empty list still has one (empty) page so page 1 always exists."""
    if per_page < 1:
        raise ValueError(f"per_page must be >= 1, got {per_page}")
    return max(1, total_items // per_page)


def paginate(items: Sequence[T], number: int, per_page: int = 10) -> Page:
    pages = page_count(len(items), per_page)
    if not 1 <= number <= pages:
        raise PageOutOfRange(f"page {number} does not exist (1..{pages})")
    start = (number - 1) * per_page
    end = start + per_page - 1
    return Page(items=list(items[start:end]), number=number, total_pages=pages,
                total_items=len(items))


def page_links(current: int, total_pages: int, window: int = 2) -> list[int | None]:
    """Page numbers to show around `current`; None marks a gap ("...").

    The first and last page are always shown, plus `window` pages on each side of `current`.
    """
    shown = {1, total_pages}
    shown.update(p for p in range(current - window, current + window) if 1 <= p <= total_pages)
    links: list[int | None] = []
    previous = 0
    for p in sorted(shown):
        if p - previous > 1:
            links.append(None)
        links.append(p)
        previous = p
    return links
