from datetime import date

from library.fees import days_late, late_fee, statement
from library.loans import Loan


def test_due_on_open_day_unchanged():
    assert Loan("b1", "book", date(2024, 3, 9)).due == date(2024, 3, 30)
    assert Loan("d1", "dvd", date(2024, 5, 6)).due == date(2024, 5, 13)


def test_due_moves_past_sunday_and_holiday():
    assert Loan("b2", "book", date(2024, 3, 10)).due == date(2024, 4, 2)
    assert Loan("d2", "dvd", date(2024, 12, 18)).due == date(2024, 12, 27)


def test_renewal_counts_from_borrowing():
    loan = Loan("b3", "book", date(2024, 2, 1)).renewed()
    assert loan.due == date(2024, 3, 14)


def test_days_late_counts_open_days_only():
    loan = Loan("b1", "book", date(2024, 3, 9))     # due Sat 2024-03-30
    assert days_late(loan, date(2024, 3, 30)) == 0
    assert days_late(loan, date(2024, 3, 31)) == 0   # Sunday
    assert days_late(loan, date(2024, 4, 1)) == 0    # Easter Monday, closed
    assert days_late(loan, date(2024, 4, 2)) == 1
    assert days_late(loan, date(2024, 4, 8)) == 6


def test_early_return_is_free():
    loan = Loan("m1", "magazine", date(2024, 6, 3))
    assert days_late(loan, date(2024, 6, 4)) == 0
    assert late_fee(loan, date(2024, 6, 4)) == 0


def test_fee_and_cap():
    dvd = Loan("d1", "dvd", date(2024, 5, 6))       # due Mon 2024-05-13
    assert late_fee(dvd, date(2024, 5, 15)) == 200
    book = Loan("b1", "book", date(2024, 3, 9))
    assert late_fee(book, date(2024, 6, 30)) == 1000
    assert late_fee(book, date(2024, 4, 6)) == 125


def test_statement():
    loans = [
        (Loan("b1", "book", date(2024, 3, 9)), date(2024, 4, 2)),
        (Loan("m1", "magazine", date(2024, 6, 3)), date(2024, 6, 4)),
        (Loan("d1", "dvd", date(2024, 5, 6)), date(2024, 9, 1)),
    ]
    assert statement(loans) == ["b1: 1 day(s) late, 0.25", "d1: 95 day(s) late, 20.00", "total: 20.25"]
