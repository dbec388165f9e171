"""Size suffixes as Linux tools print them, turned into bytes.

procps, numactl and libvirt print binary multiples (KiB, MiB) even when they write "kB", "MB" or "G";
only `free --si` and `--kilo/--mega/--giga` are decimal, and the caller says so.
"""

from __future__ import annotations

BINARY: dict[str, int] = {
    "": 1, "B": 1,
    "K": 1024, "Ki": 1024, "KB": 1024, "KiB": 1024, "kB": 1024, "k": 1024,
    "M": 1024**2, "Mi": 1024**2, "MB": 1024**2, "MiB": 1024**2,
    "G": 1024**3, "Gi": 1024**3, "GB": 1024**3, "GiB": 1024**3,
    "T": 1024**4, "Ti": 1024**4, "TB": 1024**4, "TiB": 1024**4,
    "P": 1024**5, "Pi": 1024**5, "PB": 1024**5, "PiB": 1024**5,
}
DECIMAL: dict[str, int] = {
    "": 1, "B": 1,
    "K": 1000, "k": 1000, "KB": 1000, "kB": 1000,
    "M": 1000**2, "MB": 1000**2,
    "G": 1000**3, "GB": 1000**3,
    "T": 1000**4, "TB": 1000**4,
    "P": 1000**5, "PB": 1000**5,
}


def to_bytes(number: str, suffix: str = "", *, scale: int = 1, decimal: bool = False) -> int:
    """`"4,2", "Gi"` -> bytes. `scale` applies to bare numbers (free -m prints MiB without a suffix).

    An IEC suffix ("Gi") is always binary; a bare "G" is decimal only when `decimal` (free --si).
    Raises ValueError on an unknown suffix or a non-number.
    """
    value = float(number.replace(",", "."))
    if not suffix:
        return int(round(value * scale))
    if decimal and not suffix.endswith(("i", "iB")):
        factor = DECIMAL.get(suffix)
    else:
        factor = BINARY.get(suffix)
    if factor is None:
        raise ValueError(f"unknown size suffix {suffix!r}")
    return int(round(value * factor))
