import pytest

from envfile import EnvFileError, load, parse


def test_plain_and_blanks():
    assert parse("A=1\n  B = two words  \n\n# c\n") == {"A": "1", "B": "two words"}


def test_export_prefix():
    assert parse("export DEBUG=1\nexport  X = y") == {"DEBUG": "1", "X": "y"}


def test_double_quotes_and_escapes():
    text = 'GREETING="hello world"\nMSG="line1\\nline2\\ttab \\"q\\" back\\\\slash \\d"\n'
    assert parse(text) == {"GREETING": "hello world", "MSG": 'line1\nline2\ttab "q" back\\slash \\d'}


def test_single_quotes_literal():
    assert parse("RAW='a\\nb \"x\" # not a comment'") == {"RAW": 'a\\nb "x" # not a comment'}


def test_inline_comments():
    text = "PORT=8080 # dev only\nURL=http://x/#frag\nPASSWORD=\"p#ss\"  # real comment\nTAB=v\t# c\n"
    assert parse(text) == {"PORT": "8080", "URL": "http://x/#frag", "PASSWORD": "p#ss", "TAB": "v"}


def test_empty_values():
    assert parse('EMPTY=\nE2=""\nE3=\'\'\nE4= # only comment') == {"EMPTY": "", "E2": "", "E3": "", "E4": ""}


def test_errors_carry_line_numbers():
    for text, line in [('A=1\nB="open\n', 2), ("A=1\n\nB='x' trailing\n", 3), ("1A=x", 1), ("novalue", 1)]:
        with pytest.raises(EnvFileError) as info:
            parse(text)
        assert info.value.line_no == line, text


def test_load_respects_existing(tmp_path):
    path = tmp_path / ".env"
    path.write_text('export A="from file"\nB=2 # b\n')
    env = {"A": "kept"}
    assert load(path, environ=env) == {"A": "from file", "B": "2"}
    assert env == {"A": "kept", "B": "2"}
    load(path, environ=env, override=True)
    assert env == {"A": "from file", "B": "2"}
