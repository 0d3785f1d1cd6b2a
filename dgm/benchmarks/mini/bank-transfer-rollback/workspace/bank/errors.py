from __future__ import annotations


class BankError(Exception):
    """Base class of every refusal; the API turns these into 4xx responses."""


class InsufficientFunds(BankError):
    def __init__(self, account_id: str, balance: int, amount: int) -> None:
        super().__init__(f"account {account_id} has {balance}, cannot pay {amount}")
        self.account_id = account_id


class AccountFrozen(BankError):
    def __init__(self, account_id: str) -> None:
        super().__init__(f"account {account_id} is frozen")
        self.account_id = account_id


class InvalidAmount(BankError):
    def __init__(self, amount: object) -> None:
        super().__init__(f"amount must be a positive whole number of cents, got {amount!r}")
        self.amount = amount


class UnknownAccount(BankError):
    def __init__(self, account_id: str) -> None:
        super().__init__(f"no account {account_id!r}")
        self.account_id = account_id
