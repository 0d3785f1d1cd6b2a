"""The to-do file: a JSON list of items, rewritten whole on every change (it is small)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Item:
    id: int
    text: str
    done: bool = False


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[Item]:
        if not self.path.exists():
            return []
        return [Item(**raw) for raw in json.loads(self.path.read_text(encoding="utf-8"))]

    def save(self, items: list[Item]) -> None:
        # write to a temporary file first so a crash never leaves half a list behind
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps([asdict(i) for i in items], indent=2), encoding="utf-8")
        os.replace(tmp, self.path)

    def add(self, text: str) -> Item:
        items = self.load()
        item = Item(id=max((i.id for i in items), default=0) + 1, text=text)
        items.append(item)
        self.save(items)
        return item
