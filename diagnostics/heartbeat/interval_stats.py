"""Median and p95 of inter-arrival times in bounded memory.

Heartbeat flows are slow (one ping a minute), so the first `EXACT_LIMIT` intervals are kept and the
quantiles are exact; a flow that carries bulk data switches to a log-scale histogram (1 % wide bins),
which keeps memory flat however long the capture is.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

EXACT_LIMIT = 1024  # 17 hours of one-minute pings, 8 KiB per connection
_BIN_RATIO = math.log(1.01)
_FLOOR = 1e-7  # intervals below 0.1 us share the lowest bin


@dataclass(slots=True)
class IntervalStats:
    count: int = 0
    exact: array | None = field(default_factory=lambda: array("d"))
    bins: dict[int, int] = field(default_factory=dict)

    def add(self, interval: float) -> None:
        self.count += 1
        if self.exact is not None:
            self.exact.append(interval)
            if len(self.exact) > EXACT_LIMIT:
                for value in self.exact:
                    self._bin(value)
                self.exact = None
        else:
            self._bin(interval)

    def _bin(self, value: float) -> None:
        b = math.floor(math.log(max(value, _FLOOR)) / _BIN_RATIO)
        self.bins[b] = self.bins.get(b, 0) + 1

    def quantile(self, q: float) -> float | None:
        """Nearest-rank quantile (q in 0..1); None when there are no intervals."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q * self.count))
        if self.exact is not None:
            return sorted(self.exact)[rank - 1]
        seen = 0
        for b in sorted(self.bins):
            seen += self.bins[b]
            if seen >= rank:
                return math.exp((b + 0.5) * _BIN_RATIO)
        return None  # unreachable: the bins hold `count` values
