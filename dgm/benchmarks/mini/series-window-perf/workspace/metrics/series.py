"""A time series of (timestamp, value) points, timestamps in seconds (floats), kept sorted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


@dataclass
class Series:
    name: str
    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    @classmethod
    def from_points(cls, name: str, points: Iterable[tuple[float, float]]) -> "Series":
        series = cls(name)
        for t, v in sorted(points):
            series.times.append(t)
            series.values.append(v)
        return series

    def append(self, t: float, value: float) -> None:
        """Add a point; points usually arrive in order, late ones are inserted in place."""
        if self.times and t < self.times[-1]:
            i = len(self.times)
            while i > 0 and self.times[i - 1] > t:
                i -= 1
            self.times.insert(i, t)
            self.values.insert(i, value)
        else:
            self.times.append(t)
            self.values.append(value)

    def window(self, start: float, end: float) -> list[float]:
        """Values with start <= t < end, in time order."""
        return [v for t, v in zip(self.times, self.values) if start <= t < end]

    def count(self, start: float, end: float) -> int:
        return len(self.window(start, end))

    def __len__(self) -> int:
        return len(self.times)
