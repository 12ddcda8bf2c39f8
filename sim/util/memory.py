"""A guard against the machine running out of memory: a recording that has nearly used up the memory
the machine has left stops with one line (the caller raises it), instead of the operating system's
out-of-memory killer ending the process without a word (Linux: ``MemAvailable`` of
``/proc/meminfo``; elsewhere the guard is off)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["MemoryGuard", "allocation_message"]

_MEMINFO = Path("/proc/meminfo")
FLOOR_MIB = 256.0  # stop when less than this, or FLOOR_SHARE of the total, is left (MiB)
FLOOR_SHARE = 0.03


ADVICE = "simulate a smaller size (for a pypto-lib file: its arguments after --)"


def _too_low(left: float, total: float) -> bool:
    """Whether ``left`` MiB of a ``total`` MiB machine is under the floor (FLOOR_MIB or FLOOR_SHARE)."""
    return left < max(FLOOR_MIB, FLOOR_SHARE * total)


def _meminfo_mib() -> tuple[float, float] | None:
    """(MemAvailable, MemTotal) in MiB, or None where ``/proc/meminfo`` is not readable."""
    try:
        fields = dict(line.split(":", 1) for line in _MEMINFO.read_text().splitlines() if ":" in line)
        return int(fields["MemAvailable"].split()[0]) / 1024, int(fields["MemTotal"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        return None


class MemoryGuard:
    """Counts what a recording makes (``tick``); every ``every`` items it reads the machine's free memory
    and, when it runs low, gives the one-line message the caller raises (so the error names the caller's
    line, not this module's)."""

    def __init__(self, what: str, every: int = 1 << 13) -> None:
        self.what = what
        self.every = every
        self.count = 0
        self.enabled = _MEMINFO.exists()
        self.observer: Callable[[int], None] | None = None  # told of every ``every`` items (progress)

    def tick(self) -> str | None:
        """One more item made; every ``every`` items, tell the observer and :meth:`check`."""
        self.count += 1
        if self.count % self.every == 0:
            if self.observer is not None:
                self.observer(self.every)
            if self.enabled:
                return self.check()
        return None

    def check(self) -> str | None:
        """The message if less than FLOOR_MIB or FLOOR_SHARE of the machine's memory is left, else None."""
        info = _meminfo_mib()
        if info is None:
            return None
        avail, total = info
        if _too_low(avail, total):
            return (f"the machine's memory is nearly used up after {self.count:,} {self.what} "
                    f"({avail:,.0f} MiB of {total:,.0f} MiB left); {ADVICE}")
        return None


def allocation_message(nbytes: float, what: str) -> str | None:
    """The one-line message when allocating ``nbytes`` bytes for ``what`` would leave less than FLOOR_MIB or
    FLOOR_SHARE of the machine's memory, else None (and None where the free memory is not known)."""
    info = _meminfo_mib()
    if info is None:
        return None
    avail, total = info
    need = nbytes / (1 << 20)
    if _too_low(avail - need, total):
        return (f"{what} needs up to {need:,.0f} MiB and the machine has {avail:,.0f} MiB of {total:,.0f} MiB "
                f"left; {ADVICE}")
    return None
