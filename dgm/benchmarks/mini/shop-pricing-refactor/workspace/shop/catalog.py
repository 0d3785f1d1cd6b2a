"""Products and the order lines that reference them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    unit_cents: int


@dataclass(frozen=True)
class Line:
    product: Product
    qty: int
    discount_pct: int = 0  # 0..100, a per-line promotion

    def __post_init__(self) -> None:
        if self.qty < 1:
            raise ValueError(f"quantity must be >= 1, got {self.qty}")
        if not 0 <= self.discount_pct <= 100:
            raise ValueError(f"discount must be 0..100 %, got {self.discount_pct}")


CATALOG = {
    p.sku: p
    for p in (
        Product("MUG", "Coffee mug", 1250),
        Product("TEE", "T-shirt", 1999),
        Product("CAP", "Cap", 350),
        Product("PIN", "Enamel pin", 250),
    )
}
