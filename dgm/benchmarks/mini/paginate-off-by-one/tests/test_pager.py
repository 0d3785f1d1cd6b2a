import pytest

from pager import PageOutOfRange, page_count, page_links, paginate
from views import footer, render

USERS = [f"user{i:02d}" for i in range(1, 26)]


def test_full_page_has_per_page_items():
    assert paginate(USERS, 1).items == USERS[:10]
    assert paginate(USERS, 2).items == USERS[10:20]


def test_last_partial_page_exists():
    page = paginate(USERS, 3)
    assert page.items == USERS[20:]
    assert page.total_pages == 3
    assert not page.has_next and page.has_prev


def test_every_item_on_exactly_one_page():
    for per_page in (1, 3, 7, 10, 25, 30):
        pages = page_count(len(USERS), per_page)
        seen = [u for n in range(1, pages + 1) for u in paginate(USERS, n, per_page).items]
        assert seen == USERS, per_page


def test_page_count_rounds_up():
    assert page_count(25, 10) == 3
    assert page_count(20, 10) == 2
    assert page_count(0, 10) == 1
    assert page_count(1, 10) == 1


def test_out_of_range():
    with pytest.raises(PageOutOfRange):
        paginate(USERS, 4)
    with pytest.raises(PageOutOfRange):
        paginate(USERS, 0)


def test_empty_list_has_one_empty_page():
    page = paginate([], 1)
    assert page.items == [] and page.total_pages == 1
    assert footer(page) == "no items"


def test_footer_ranges():
    assert footer(paginate(USERS, 1)) == "items 1-10 of 25 | [1] 2 3"
    assert footer(paginate(USERS, 3)) == "items 21-25 of 25 | 1 2 [3]"


def test_page_links_window_both_sides():
    assert page_links(6, 20) == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert page_links(1, 20) == [1, 2, 3, None, 20]
    assert page_links(20, 20) == [1, None, 18, 19, 20]
    assert page_links(4, 7, window=1) == [1, None, 3, 4, 5, None, 7]


def test_render_last_page():
    text = render(USERS, 3, per_page=10).splitlines()
    assert text[:5] == USERS[20:]
    assert text[-1].startswith("items 21-25 of 25")
