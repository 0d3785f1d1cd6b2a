import pytest

from csvlite import CsvError, read_rows, split_line
from report import totals_by_customer


def test_plain_fields_are_stripped():
    assert split_line(" a , b,c ") == ["a", "b", "c"]


def test_quoted_delimiter_stays_in_field():
    assert split_line('"Smith, John",1250,"paid, thanks"') == ["Smith, John", "1250", "paid, thanks"]


def test_doubled_quote_is_literal_quote():
    assert split_line('"say ""hi""",x') == ['say "hi"', "x"]


def test_blanks_inside_quotes_are_kept():
    assert split_line('"  padded ", plain ') == ["  padded ", "plain"]


def test_empty_quoted_and_unquoted_fields():
    assert split_line('"",,x') == ["", "", "x"]


def test_other_delimiter():
    assert split_line('"a;b";c', delimiter=";") == ["a;b", "c"]


def test_unterminated_quote_reports_its_line():
    text = 'customer,amount_cents\n\nACME,1\n"Broken,2\n'
    with pytest.raises(CsvError) as info:
        read_rows(text)
    assert info.value.line_no == 4


def test_field_count_error_still_raised():
    with pytest.raises(CsvError) as info:
        read_rows("a,b\n1,2,3\n")
    assert info.value.line_no == 2


def test_report_with_quoted_customer():
    text = (
        "customer,amount_cents,note\n"
        '"Smith, John",1250,"paid, thanks"\n'
        'ACME,300,""\n'
        '"Smith, John",50,"second ""batch"""\n'
    )
    assert totals_by_customer(text) == {"Smith, John": 1300, "ACME": 300}
