"""Render a page of a list view as plain text (used by the admin CLI and the e-mail digests)."""

from __future__ import annotations

from pager import Page, page_links, paginate


def footer(page: Page) -> str:
    if not page.items:
        return "no items"
    last = page.first_index + len(page.items) - 1
    links = " ".join("..." if p is None else (f"[{p}]" if p == page.number else str(p))
                     for p in page_links(page.number, page.total_pages))
    return f"items {page.first_index}-{last} of {page.total_items} | {links}"


def render(items: list[str], number: int, per_page: int = 10) -> str:
    page = paginate(items, number, per_page)
    return "\n".join([*page.items, footer(page)])
