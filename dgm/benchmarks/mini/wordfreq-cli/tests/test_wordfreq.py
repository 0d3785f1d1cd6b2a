import pytest

from wordfreq import count_words, main

TEXT = """The cat and the hat. THE END, the end!
"Don't," said the cat; 'quoted' words don't count quotes.
A café, a naïve cat... o'clock
"""


def test_count_words_normalizes():
    counts = count_words([TEXT])
    assert counts["the"] == 5
    assert counts["cat"] == 3
    assert counts["end"] == 2
    assert counts["don't"] == 2
    assert counts["quoted"] == 1
    assert counts["o'clock"] == 1
    assert counts["café"] == 1 and counts["naïve"] == 1
    assert "the," not in counts and "'quoted'" not in counts and "" not in counts


def test_min_length_after_stripping():
    counts = count_words(["a an, ant. ANT!"], min_length=3)
    assert dict(counts) == {"ant": 2}


def test_output_order_and_format(tmp_path, capsys):
    path = tmp_path / "t.txt"
    path.write_text("b a c b a d\n")
    assert main([str(path), "--top", "3"]) == 0
    out, err = capsys.readouterr()
    assert out == "      2 a\n      2 b\n      1 c\n"
    assert err == ""


def test_several_files(tmp_path, capsys):
    (tmp_path / "1.txt").write_text("Hello, world")
    (tmp_path / "2.txt").write_text("hello again")
    assert main([str(tmp_path / "1.txt"), str(tmp_path / "2.txt")]) == 0
    assert capsys.readouterr().out.splitlines() == ["      2 hello", "      1 again", "      1 world"]


def test_missing_file(tmp_path, capsys):
    good = tmp_path / "ok.txt"
    good.write_text("fine")
    missing = tmp_path / "nope.txt"
    assert main([str(good), str(missing)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"wordfreq: cannot read {missing}: No such file or directory" in err


def test_top_must_be_positive(tmp_path, capsys):
    path = tmp_path / "t.txt"
    path.write_text("x")
    for bad in ("0", "-3"):
        with pytest.raises(SystemExit) as info:
            main([str(path), "--top", bad])
        assert info.value.code == 2
    assert "--top" in capsys.readouterr().err
