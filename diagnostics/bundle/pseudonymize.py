"""Replace IPs, hostnames and account names by stable stand-ins, the same in every file of a bundle.

Why: a customer may share a bundle only if it does not reveal their network, yet an engineer must still see that
`10.20.0.5` in agent.log is the same management server as in management-server.log, and that two hosts share a
subnet. So the mapping is consistent across files and subnet-preserving: every real /24 gets one fake /24 from
10.128.0.0/9 (then 100.64.0.0/10) and the host octet is kept (sos `clean` keeps relationships the same way). Loopback, 0.0.0.0 and
netmasks are left alone because they identify nobody. IPv6 the same way: every real /64 gets one stand-in /64 from the
documentation prefix 2001:db8::/32 and the interface identifier is kept (`::`, `::1` and multicast stay).

Names are learned from CloudStack's own renderings (`Host {..."name":"kvm01"...}`, `via: 4(kvm01)`,
`"accountName":"acme"`) in a first pass over all inputs, plus any names given explicitly. The built-in accounts
`admin` and `system` exist in every installation and are kept. The mapping is written to a private file beside the
bundle, never into it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

# Patterns start with a literal or a plain class, never a look-behind: that lets the regex engine skip ahead fast
# (5-10x on multi-GB logs). Boundaries are checked in Python on the few matches instead.
_IPV4 = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})")
_IPV4_HINT = re.compile(r"\d\.\d+\.\d+\.\d")
# IPv6 candidates: hex groups with at least two colons; ipaddress decides (times `15:11:40` and MACs are not valid).
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])|(?<![\w:])::(?![\w:])")
_IPV6_HINT = re.compile(r"::|(?:[0-9A-Fa-f]{1,4}:){7}")

_HOST_PATTERNS = (
    ('"name":"', re.compile(r'Host \{[^{}]*?"name":"([^"]+)"')),  # 4.18+ entity rendering
    ("via: ", re.compile(r"via: \d+\(([^()\s]+)\)")),  # Seq traces
    ("ost ", re.compile(r"ost \d+\(([^()\s]+)\)")),  # `Ping from Routing host 4(kvm01)`
    ("agent id = ", re.compile(r"agent id = \d+, uuid = [^,]+, name = ([^\s,]+)")),  # agent ready command
    ("The link to the agent ", re.compile(r"The link to the agent ([^\s,]+) has been closed")),
)
_ACCOUNT_PATTERNS = (
    re.compile(r'"(?:accountName|account)"\s*:\s*"([^"]+)"'),
    re.compile(r"[?&\s]account=([^&\s]+)"),
)
BUILTIN_ACCOUNTS = frozenset({"admin", "system", "baremetal-system-account"})
MIN_NAME = 3  # shorter names would rewrite ordinary words


def _is_mappable_ip(octets: tuple[int, int, int, int]) -> bool:
    a = octets[0]
    if any(o > 255 for o in octets):
        return False
    if a in (0, 127, 255):  # this-network, loopback, netmasks like 255.255.255.0
        return False
    return True


def _stand_in_net(n: int) -> str:
    """The n-th stand-in /24: 10.128.0 ... 10.255.255, then 100.64.0 ... 100.127.255 (32768 + 16384 networks)."""
    if n < 128 * 256:
        return f"10.{128 + n // 256}.{n % 256}"
    n -= 128 * 256
    if n < 64 * 256:
        return f"100.{64 + n // 256}.{n % 256}"
    raise OverflowError("more than 49152 distinct /24 networks to pseudonymise")


@dataclass(slots=True)
class Pseudonymizer:
    """Learns names, then rewrites lines; `mapping()` is the private key to undo it."""

    ips: bool = True
    _nets: dict[str, str] = field(default_factory=dict)
    _nets6: dict[int, int] = field(default_factory=dict)  # real /64 prefix -> stand-in /64 prefix (as ints)
    _hosts: dict[str, str] = field(default_factory=dict)
    _accounts: dict[str, str] = field(default_factory=dict)
    _names_re: re.Pattern[str] | None = None
    _by_lower: dict[str, str] = field(default_factory=dict)
    _dirty: bool = True

    # -- learning -------------------------------------------------------------------------------------------
    def add_host(self, name: str) -> None:
        name = name.strip().strip(".")
        if len(name) < MIN_NAME or name.lower() in (h.lower() for h in self._hosts) or _IPV4.fullmatch(name):
            return
        alias = f"host-{len(self._hosts) + 1:03d}"
        self._hosts[name] = alias
        short = name.split(".", 1)[0]
        if short != name and len(short) >= MIN_NAME and short not in self._hosts:
            self._hosts[short] = alias
        self._dirty = True

    def add_account(self, name: str) -> None:
        name = name.strip()
        if len(name) < MIN_NAME or name in BUILTIN_ACCOUNTS or name in self._accounts or "***" in name:
            return
        self._accounts[name] = f"account-{len(self._accounts) + 1:03d}"
        self._dirty = True

    def learn(self, line: str) -> None:
        """Collect host and account names from one line (cheap substring checks first)."""
        for literal, pattern in _HOST_PATTERNS:
            if literal in line:
                for m in pattern.finditer(line):
                    self.add_host(m.group(1))
        if "ccount" in line:
            for pattern in _ACCOUNT_PATTERNS:
                for m in pattern.finditer(line):
                    self.add_account(m.group(1))

    @property
    def hosts(self) -> list[str]:
        """Learned and given host names (real), in first-seen order."""
        return list(self._hosts)

    # -- rewriting ------------------------------------------------------------------------------------------
    def _compiled(self) -> re.Pattern[str] | None:
        if self._dirty:
            names = sorted({*self._hosts, *self._accounts}, key=len, reverse=True)
            self._by_lower = {k.lower(): v for k, v in self._hosts.items()}
            self._names_re = re.compile("(" + "|".join(map(re.escape, names)) + ")", re.IGNORECASE) if names else None
            self._dirty = False
        return self._names_re

    def _ip(self, m: re.Match[str]) -> str:
        text, start, end = m.string, m.start(), m.end()
        if (start and (text[start - 1].isdigit() or text[start - 1] == ".")) or (
            end < len(text) and (text[end].isdigit() or (text[end] == "." and text[end + 1 : end + 2].isdigit()))
        ):
            return m.group(0)  # part of a longer dotted number (a version, an OID)
        octets = tuple(int(g) for g in m.groups())
        if not _is_mappable_ip(octets):  # type: ignore[arg-type]
            return m.group(0)
        net = ".".join(m.groups()[:3])
        fake = self._nets.get(net)
        if fake is None:
            fake = _stand_in_net(len(self._nets))
            self._nets[net] = fake
        return f"{fake}.{octets[3]}"

    def _ip6(self, m: re.Match[str]) -> str:
        text = m.group(0)
        try:
            addr = ipaddress.IPv6Address(text)
        except ValueError:
            return text  # a time, a MAC, a Java `a::b` method reference...
        if addr.is_unspecified or addr.is_loopback or addr.is_multicast or addr.ipv4_mapped is not None:
            return text  # identifies nobody (an IPv4-mapped address had its IPv4 part replaced already)
        if sum(ch in "0123456789abcdefABCDEF" for ch in text) < 4:
            return text  # `a::b`, `c::d`: more likely a C++/Java scope than an address
        value = int(addr)
        prefix, iid = value >> 64, value & ((1 << 64) - 1)
        fake = self._nets6.get(prefix)
        if fake is None:  # 2001:db8:<n>::/64, n counting up: documentation space, never routed
            fake = self._nets6[prefix] = (0x20010DB8 << 32) | len(self._nets6)
        return str(ipaddress.IPv6Address((fake << 64) | iid))

    def _alias(self, name: str) -> str:
        if name in self._accounts:
            return self._accounts[name]
        if name in self._hosts:
            return self._hosts[name]
        return self._by_lower.get(name.lower(), name)

    def _name(self, m: re.Match[str]) -> str:
        text, start, end = m.string, m.start(), m.end()
        before = text[start - 1] if start else ""
        after = text[end : end + 2]
        if (before and (before.isalnum() or before in "_./-")) or (
            after and (after[0].isalnum() or after[0] in "_/-" or (after[0] == "." and after[1:].isalnum()))
        ):
            return m.group(0)  # inside a longer word, path or domain name
        return self._alias(m.group(1))

    def line(self, text: str) -> str:
        if self.ips and _IPV4_HINT.search(text):
            text = _IPV4.sub(self._ip, text)
        if self.ips and ":" in text and _IPV6_HINT.search(text):
            text = _IPV6.sub(self._ip6, text)
        names = self._compiled()
        if names is not None:
            text = names.sub(self._name, text)
        return text

    def path_part(self, part: str) -> str:
        """A file or folder name: names are replaced wherever they occur (`probe-kvm01` -> `probe-host-001`)."""
        part = self.line(part)
        for real in sorted(self._hosts, key=len, reverse=True):
            part = re.sub(re.escape(real), self._hosts[real], part, flags=re.IGNORECASE)
        return part

    def mapping(self) -> dict[str, dict[str, str]]:
        """Real -> stand-in, for the private map file."""
        return {
            "ipv4_networks_24": {f"{k}.0/24": f"{v}.0/24" for k, v in self._nets.items()},
            "ipv6_networks_64": {
                f"{ipaddress.IPv6Address(k << 64)}/64": f"{ipaddress.IPv6Address(v << 64)}/64" for k, v in self._nets6.items()
            },
            "hostnames": dict(self._hosts),
            "accounts": dict(self._accounts),
        }
