from blog.posts import Blog
from blog.slug import slugify, unique_slug


def test_accents_are_transliterated():
    assert slugify("Crème brûlée, done right!") == "creme-brulee-done-right"


def test_separators_collapse_and_trim():
    assert slugify("  Hello --- World  ") == "hello-world"
    assert slugify("a_b.c") == "a-b-c"


def test_non_ascii_without_base_letter_dropped():
    assert slugify("Ünïcödé & Ærø") == "unicode-r"


def test_nothing_usable():
    assert slugify("???") == "post"
    assert slugify("") == "post"


def test_digits_kept():
    assert slugify("Top 10 tips for 2024") == "top-10-tips-for-2024"


def test_truncates_at_word_boundary():
    title = "the quick brown fox jumps over the lazy dog"
    assert slugify(title, max_length=20) == "the-quick-brown-fox"
    assert slugify(title, max_length=19) == "the-quick-brown-fox"
    assert slugify(title, max_length=18) == "the-quick-brown"
    assert len(slugify(title * 3)) <= 60


def test_single_long_word_is_cut():
    assert slugify("Supercalifragilisticexpialidocious", max_length=10) == "supercalif"


def test_unique_slug_suffixes_within_limit():
    taken = {"hello-world", "hello-world-2"}
    assert unique_slug("Hello World", taken) == "hello-world-3"
    slug = unique_slug("alpha beta gamma", {"alpha-beta-gamma", "alpha-beta"}, max_length=16)
    assert slug == "alpha-beta-2" and len(slug) <= 16


def test_blog_permalinks():
    blog = Blog("https://example.org/")
    first = blog.publish("Crème brûlée", "...")
    second = blog.publish("Creme Brulee", "...")
    assert blog.permalink(first) == "https://example.org/posts/creme-brulee/"
    assert blog.permalink(second) == "https://example.org/posts/creme-brulee-2/"
