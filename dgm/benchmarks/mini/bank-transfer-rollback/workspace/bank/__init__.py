"""Accounts and transfers for the club's internal credit system (amounts in cents)."""
