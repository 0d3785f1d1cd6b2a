"""Transfers between accounts, with a journal the auditors reconcile every month."""

from __future__ import annotations

from dataclasses import dataclass, field

from bank.accounts import Account
from bank.errors import UnknownAccount


@dataclass(frozen=True)
class Transfer:
    number: int
    source: str
    target: str
    amount: int
    memo: str = ""


@dataclass
class Ledger:
    accounts: dict[str, Account] = field(default_factory=dict)
    journal: list[Transfer] = field(default_factory=list)

    def open(self, account_id: str, owner: str, balance: int = 0) -> Account:
        account = Account(account_id, owner, balance)
        self.accounts[account_id] = account
        return account

    def get(self, account_id: str) -> Account:
        return self.accounts[account_id]

    def transfer(self, source_id: str, target_id: str, amount: int, memo: str = "") -> Transfer:
        """Move `amount` cents from source to target and journal it."""
        source = self.get(source_id)
        target = self.get(target_id)
        source.withdraw(amount)
        target.deposit(amount)
        record = Transfer(len(self.journal) + 1, source_id, target_id, amount, memo)
        self.journal.append(record)
        return record

    def total(self) -> int:
        """Sum of all balances: transfers must never change it."""
        return sum(a.balance for a in self.accounts.values())
