"""Loans and late fees of the town library."""
