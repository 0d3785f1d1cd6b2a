from __future__ import annotations

from dataclasses import dataclass

from bank.errors import AccountFrozen, InsufficientFunds


@dataclass
class Account:
    id: str
    owner: str
    balance: int = 0
    frozen: bool = False

    def withdraw(self, amount: int) -> None:
        if self.frozen:
            raise AccountFrozen(self.id)
        if amount > self.balance:
            raise InsufficientFunds(self.id, self.balance, amount)
        self.balance -= amount

    def deposit(self, amount: int) -> None:
        if self.frozen:
            raise AccountFrozen(self.id)
        self.balance += amount
