"""Clock offset of a host against this machine, from `date +%s.%N` readings bracketed by send and receive times.

Each remote reading was taken somewhere inside [sent, received]; assuming the middle gives the offset,
and half the round trip bounds the error. Of several readings the tightest bracket wins (like NTP's
minimum-delay filter). analyze subtracts the offset to put host times on our clock.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class ClockOffset:
    offset_s: float  # remote minus local: positive when the host's clock is ahead
    uncertainty_s: float  # half the round trip: the true offset lies within offset +/- this


def clock_offset(sent_at: float, received_at: float, remote_output: str) -> ClockOffset | None:
    """None when the output is not a `date +%s.%N` reading (e.g. a busybox date printing a literal %N)."""
    text = remote_output.strip()
    try:
        remote = float(text)
    except ValueError:
        return None
    if received_at < sent_at or remote != remote or remote in (float("inf"), float("-inf")):
        return None
    return ClockOffset(offset_s=remote - (sent_at + received_at) / 2.0, uncertainty_s=(received_at - sent_at) / 2.0)


def best_clock_offset(samples: list[tuple[float, float, str]]) -> ClockOffset | None:
    """The offset from the reading with the shortest round trip; None when no reading is usable."""
    offsets = [offset for offset in (clock_offset(sent, received, text) for sent, received, text in samples) if offset]
    return min(offsets, key=lambda offset: offset.uncertainty_s, default=None)
