import pytest

from bank.errors import AccountFrozen, BankError, InsufficientFunds, InvalidAmount, UnknownAccount
from bank.ledger import Ledger


def setup():
    ledger = Ledger()
    ledger.open("A", "ann", 1000)
    ledger.open("B", "bob", 50)
    ledger.open("C", "cid", 0)
    return ledger


def snapshot(ledger):
    return {k: a.balance for k, a in ledger.accounts.items()}, list(ledger.journal)


def test_successful_transfer_journaled():
    ledger = setup()
    record = ledger.transfer("A", "B", 300, memo="dues")
    assert (record.number, record.amount, record.memo) == (1, 300, "dues")
    assert ledger.get("A").balance == 700 and ledger.get("B").balance == 350
    assert ledger.total() == 1050


def test_frozen_target_rolls_back():
    ledger = setup()
    ledger.get("B").frozen = True
    before = snapshot(ledger)
    with pytest.raises(AccountFrozen) as info:
        ledger.transfer("A", "B", 300)
    assert info.value.account_id == "B"
    assert snapshot(ledger) == before


def test_frozen_source_and_insufficient_funds_change_nothing():
    ledger = setup()
    before = snapshot(ledger)
    with pytest.raises(InsufficientFunds):
        ledger.transfer("B", "A", 51)
    ledger.get("A").frozen = True
    with pytest.raises(AccountFrozen):
        ledger.transfer("A", "C", 1)
    assert snapshot(ledger) == before


def test_invalid_amounts():
    ledger = setup()
    before = snapshot(ledger)
    for amount in (-500, 0, 2.5, "100", True, None):
        with pytest.raises(InvalidAmount):
            ledger.transfer("A", "B", amount)
    assert snapshot(ledger) == before


def test_unknown_accounts():
    ledger = setup()
    before = snapshot(ledger)
    with pytest.raises(UnknownAccount) as info:
        ledger.transfer("A", "ZZ", 10)
    assert info.value.account_id == "ZZ"
    with pytest.raises(UnknownAccount):
        ledger.transfer("ZZ", "A", 10)
    with pytest.raises(UnknownAccount):
        ledger.get("nope")
    assert snapshot(ledger) == before


def test_self_transfer_refused():
    ledger = setup()
    before = snapshot(ledger)
    with pytest.raises(BankError):
        ledger.transfer("A", "A", 10)
    assert snapshot(ledger) == before


def test_total_is_conserved_over_mixed_operations():
    ledger = setup()
    ledger.get("C").frozen = True
    attempts = [("A", "B", 100), ("B", "C", 10), ("A", "C", 5), ("B", "A", 1000), ("A", "B", -1), ("B", "A", 150)]
    for source, target, amount in attempts:
        try:
            ledger.transfer(source, target, amount)
        except BankError:
            pass
    assert ledger.total() == 1050
    assert [(t.source, t.target, t.amount) for t in ledger.journal] == [("A", "B", 100), ("B", "A", 150)]
    assert [t.number for t in ledger.journal] == [1, 2]
