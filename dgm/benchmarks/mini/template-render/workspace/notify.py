"""Notification e-mails built from templates."""

from __future__ import annotations

from dataclasses import dataclass

from minitpl import render

SHIPPED = """\
Hello {{ user.name|title }},

your order {{ order.id }} ({{ order.total|money }} EUR) has shipped.
Expected delivery: {{ order.eta|default:within a week }}.
"""


@dataclass
class User:
    name: str
    email: str


def shipped_mail(user: User, order: dict) -> str:
    return render(SHIPPED, {"user": user, "order": order})
