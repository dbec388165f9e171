"""One copy of each repeated value across the facts of an analysis.

A busy log repeats the same short texts in every fact of a kind (`SUCCEEDED`, `StartVMCmd`, `VirtualMachine`,
`Starting`, an exception's name, a capacity check's first line): each parse makes a new string object, and kept to
the end of the analysis they were a quarter of the facts' memory. `ValueTable.share` swaps a fact's string and tuple
values for the first equal object seen, so equal values are one object; the facts compare and print as before.

A field whose values rarely repeat (log ids, timestamps' texts, most messages) would only grow the table: after
`PROBE` values of one kind and field the table keeps sharing that field only if at least half of them were repeats.
"""

from __future__ import annotations

from diagnostics.model import Fact

PROBE = 512  # values of one kind and field looked at before deciding whether that field repeats enough
_NOT_SHARED = frozenset({"path", "ts"})  # the path is one object per input already; times are not strings


class ValueTable:
    __slots__ = ("values", "fields", "probes", "shared")

    def __init__(self) -> None:
        self.values: dict[object, object] = {}
        self.fields: dict[type, tuple[str, ...]] = {}  # per fact class: the fields still shared
        self.probes: dict[tuple[type, str], list[int]] = {}  # (class, field) -> [values seen, repeats] until decided
        self.shared = 0  # values replaced by an equal object seen before

    def share(self, fact: Fact) -> Fact:
        cls = type(fact)
        names = self.fields.get(cls)
        if names is None:
            names = self.fields[cls] = tuple(name for name in cls.field_names() if name not in _NOT_SHARED)
            self.probes.update({(cls, name): [0, 0] for name in names})
        values = self.values
        for name in names:
            value = getattr(fact, name)
            if not value:
                continue
            if value.__class__ is str:
                key = value
            elif value.__class__ is tuple:
                key = (tuple(map(type, value)), value)  # (1,) and (True,) are equal, yet not the same value
            else:
                continue
            try:
                held = values.get(key)
            except TypeError:  # a tuple holding something unhashable: left as it is
                continue
            probe = self.probes.get((cls, name))
            if probe is not None:
                probe[0] += 1
                probe[1] += held is not None
                if probe[0] >= PROBE:
                    del self.probes[(cls, name)]
                    if 2 * probe[1] < probe[0]:  # mostly new values: stop looking this field up
                        self.fields[cls] = tuple(n for n in self.fields[cls] if n != name)
            if held is None:
                values[key] = value
            elif held is not value:
                setattr(fact, name, held)
                self.shared += 1
        return fact
