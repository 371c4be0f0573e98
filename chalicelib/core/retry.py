"""The one retry policy: how many attempts, and capped exponential backoff with jitter between them."""
from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter; max_attempts 0 retries forever.

    The wait after failed attempt n is min(max_s, min_s * 2**(n-1)), of which the
    `jitter` fraction is random: 1.0 is full jitter (anywhere from 0), 0.5 waits at
    least half, 0.0 waits exactly. Jitter spreads out contenders that failed together
    (a conditional write lost to another, many lanes after a shared outage).
    """

    min_s: float = 0.05
    max_s: float = 2.0
    max_attempts: int = 0
    jitter: float = 0.5

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after the given (1-based) failed attempt."""
        base = min(self.max_s, self.min_s * 2 ** min(attempt - 1, 30))
        return base * (1.0 - self.jitter + self.jitter * rand())

    def exhausted(self, attempt: int) -> bool:
        """Whether the given (1-based) attempt was the last one allowed."""
        return bool(self.max_attempts) and attempt >= self.max_attempts

    def attempts(self) -> Iterator[int]:
        """The attempt numbers 1, 2, ... up to max_attempts (without end when 0)."""
        return iter(range(1, self.max_attempts + 1)) if self.max_attempts else itertools.count(1)

    def retries(self, sleep: Callable[[float], None] = time.sleep,
                rand: Callable[[], float] = random.random) -> Iterator[int]:
        """The attempt numbers, sleeping the backoff before each one after the first."""
        for attempt in self.attempts():
            if attempt > 1:
                sleep(self.delay(attempt - 1, rand))
            yield attempt
