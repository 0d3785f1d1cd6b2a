from wrap import wrap, wrap_paragraph


def test_exact_fit():
    assert wrap_paragraph("aaaa bbbbb cc", 10) == ["aaaa bbbbb", "cc"]
    assert wrap_paragraph("a b c d e f", 3) == ["a b", "c d", "e f"]


def test_greedy_fill():
    text = "the quick brown fox jumps over the lazy dog"
    assert wrap_paragraph(text, 15) == ["the quick brown", "fox jumps over", "the lazy dog"]


def test_indents_count_toward_width():
    assert wrap_paragraph("one two three four", 9, indent="- ", subsequent_indent="  ") == [
        "- one two", "  three", "  four",
    ]


def test_long_word_split_on_new_line():
    assert wrap_paragraph("see https://example.org/a/very/long/path", 10) == [
        "see https:",
        "//example.",
        "org/a/very",
        "/long/path",
    ]


def test_long_word_then_more_words():
    assert wrap_paragraph("abcdefghijklm no", 5) == ["abcde", "fghij", "klm", "no"]
    assert wrap_paragraph("x abcdefghijklm no", 5) == ["x abc", "defgh", "ijklm", "no"]


def test_long_word_with_indent():
    assert wrap_paragraph("abcdefgh", 5, indent="- ", subsequent_indent="  ") == ["- abc", "  def", "  gh"]


def test_never_too_long():
    text = " ".join(["lorem", "ipsum", "dolorsitametconsectetur", "adipiscing", "elit", "x" * 40] * 5)
    for width in range(4, 30):
        lines = wrap_paragraph(text, width)
        assert all(len(line) <= width for line in lines), width
        assert all(line == line.strip() for line in lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_empty():
    assert wrap_paragraph("", 10) == []
    assert wrap_paragraph("   ", 10) == []


def test_wrap_paragraphs_and_lists():
    text = "Hello there, this is a test.\n\n- first item that wraps\n- second"
    assert wrap(text, 14) == "Hello there,\nthis is a\ntest.\n\n- first item\n  that wraps\n- second"
