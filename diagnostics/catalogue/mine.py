"""Rebuild or extend the catalogue from CloudStack's source: `python3 -m diagnostics.catalogue.mine SRC ...`.

SRC is a git directory (a clone or a bare mirror) read at one commit per release, or a checked-out tree:

    python3 -m diagnostics.catalogue.mine /path/cloudstack.git --all            # every release of sources.toml
    python3 -m diagnostics.catalogue.mine /path/cloudstack.git --release 4.19=0c7d47138d
    python3 -m diagnostics.catalogue.mine ~/src/cloudstack --release 4.22       # a work tree as it is

The classes read per area are `sources.toml`. Every logger call, `throw new ...Exception("...")` and
`new ...Answer(..., "...")` becomes a template (see `java.py`); identical templates merge across releases and
classes. Existing entries keep their id, fact_kind, event, examples and note; an entry marked `reviewed = true` also keeps
its template text, relevance and category (the others get the current heuristics' guess again); class, level,
exception and the sources of the releases read are refreshed. A new
template gets an id `area.slug` and a first classification from `heuristics.toml`. Only derived data is written.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from diagnostics.catalogue import DATA_DIR, PLACEHOLDER_RE, parse_sources
from diagnostics.catalogue.java import calls

HERE = Path(__file__).parent
SOURCES_FILE = HERE / "sources.toml"
HEURISTICS_FILE = HERE / "heuristics.toml"
REVIEW_FILE = HERE / "review.toml"
VOCABULARY_FILE = HERE / "vocabulary.toml"
_HAND_FIELDS = ("relevance", "category", "fact_kind", "event", "examples", "reviewed", "note")
MIN_LITERAL_LETTERS = 12


@dataclass(slots=True)
class Mined:
    template: str
    area: str
    cls: str
    level: str
    exception: str | None
    # (release, path) -> line: one text written by several classes keeps every class's place in every release
    sources: dict[tuple[str, str], int] = field(default_factory=dict)
    # every class that writes it (the newest release's first) -> its own (template, level, exception)
    variants: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)

    def releases(self) -> set[str]:
        return {release for release, _ in self.sources}


def merge_key(template: str) -> str:
    """Templates that differ only in placeholder names/types or spacing are one message."""
    return re.sub(r"\s+", " ", PLACEHOLDER_RE.sub("{}", template)).strip().rstrip(".").rstrip()


def usable(template: str) -> str | None:
    """The first line of a rendered template if it has enough literal text to be recognised, else None."""
    # the first line, without a closing full stop: releases add and drop it, a reader does not care
    first = template.split("\n", 1)[0].rstrip()
    if first.endswith(".") and not first.endswith(".."):
        first = first[:-1].rstrip()
    if any(m.group("type") is None for m in PLACEHOLDER_RE.finditer(first)):
        return None  # literal `{word}` braces in CloudStack's text would read as a placeholder
    literal = PLACEHOLDER_RE.sub(" ", first)
    if sum(c.isalpha() for c in literal) < MIN_LITERAL_LETTERS or not re.search(r"[A-Za-z]{4,}", literal):
        return None
    return first


# ---- reading a source tree -------------------------------------------------------------------------------------

class Tree:
    """One release of the source: a git directory at a commit, or a plain directory."""

    def __init__(self, src: str, commit: str | None) -> None:
        self.src, self.commit = src, commit
        self.git = commit is not None

    def files(self) -> list[str]:
        if self.git:
            out = subprocess.run(["git", "--git-dir", self._gitdir(), "ls-tree", "-r", "--name-only", self.commit],
                                 capture_output=True, text=True, check=True).stdout
            return out.splitlines()
        root = Path(self.src)
        return [str(p.relative_to(root)) for p in root.rglob("*.java")]

    def read(self, path: str) -> str:
        if self.git:
            return subprocess.run(["git", "--git-dir", self._gitdir(), "show", f"{self.commit}:{path}"],
                                  capture_output=True, text=True, check=True, errors="replace").stdout
        return (Path(self.src) / path).read_text(encoding="utf-8", errors="replace")

    def _gitdir(self) -> str:
        dot = Path(self.src) / ".git"
        return str(dot) if dot.exists() else self.src


def class_files(tree: Tree, areas: list[dict]) -> list[tuple[str, str, str]]:
    """(area, class, path) of every class named in `sources.toml`, found by file name in this release."""
    wanted: dict[str, tuple[str, str | None]] = {}
    for area in areas:
        for cls in area["classes"]:
            wanted[f"{cls}.java"] = (area["name"], area.get("under"))
    found = []
    for path in tree.files():
        name = path.rsplit("/", 1)[-1]
        if name in wanted and "/test/" not in path and "/src/" in path:
            area, under = wanted[name]
            if under and under not in path:
                continue
            found.append((area, name[:-5], path))
    return found


def mine_release(tree: Tree, release: str, areas: list[dict], into: dict[str, Mined], stats: Counter) -> None:
    for area, cls, path in class_files(tree, areas):
        for call in calls(tree.read(path)):
            stats["calls"] += 1
            template = usable(call.template) if call.template else None
            if template is None:
                stats["no_literal"] += 1
                continue
            key = merge_key(template)
            entry = into.get(key)
            if entry is None:
                entry = into[key] = Mined(template, area, cls, call.level, call.exception)
            entry.sources.setdefault((release, path), call.line)
            entry.variants.setdefault(cls, (template, call.level, call.exception))


# ---- classification ------------------------------------------------------------------------------------------

class Heuristics:
    def __init__(self, data: dict) -> None:
        self.failure = re.compile(data["relevance"]["failure"], re.I)
        self.benign = tuple(data["relevance"]["benign"])
        self.context = re.compile(data["relevance"].get("context", "(?!)"))
        self.by_exception = data.get("exception_category", {})
        self.rules = [(c["name"], re.compile(c["pattern"], re.I), set(c.get("areas", ())), set(c.get("exceptions", ())))
                      for c in data["category"]]

    def relevance(self, m: Mined) -> str:
        literal = PLACEHOLDER_RE.sub(" ", m.template)
        if any(b in m.template for b in self.benign):
            return "benign"
        if self.context.search(m.template) and m.level not in ("ERROR", "FATAL", "EXCEPTION"):
            return "context"
        if m.level in ("ERROR", "FATAL", "EXCEPTION") or self.failure.search(literal):
            return "failure"
        return "context"

    def category(self, m: Mined) -> str:
        if m.exception in self.by_exception:
            return self.by_exception[m.exception]
        literal = PLACEHOLDER_RE.sub(" ", m.template)
        for name, rx, areas, exceptions in self.rules:
            if areas and m.area not in areas:
                continue
            if exceptions and m.exception not in exceptions:
                continue
            if rx.search(literal):
                return name
        return "other"


def slug(template: str) -> str:
    words = re.findall(r"[a-z0-9]+", PLACEHOLDER_RE.sub(" ", template).lower())
    return "-".join(words[:7]) or "message"


# ---- the TOML files -------------------------------------------------------------------------------------------

def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def write_entry(e: dict) -> str:
    lines = ["[[message]]", f"id = {_q(e['id'])}", f"class = {_q(e['class'])}", f"level = {_q(e['level'])}"]
    if e.get("exception"):
        lines.append(f"exception = {_q(e['exception'])}")
    lines.append(f"template = {_q(e['template'])}")
    lines.append(f"relevance = {_q(e['relevance'])}")
    lines.append(f"category = {_q(e['category'])}")
    for key in ("fact_kind", "event", "note"):
        if e.get(key):
            lines.append(f"{key} = {_q(e[key])}")
    if e.get("reviewed"):
        lines.append("reviewed = true")
    if e.get("source"):
        lines.append(f"source = {_q(format_sources(e['source']))}")
    if e.get("examples"):
        lines.append("examples = [")
        lines.extend(f"  {_q(x)}," for x in e["examples"])
        lines.append("]")
    return "\n".join(lines) + "\n"


HEADER = ("# CloudStack's {area} messages, mined from its source by `python3 -m diagnostics.catalogue.mine` (see README.md).\n"
          "# fact_kind, event, examples and note survive a re-run; so do template, relevance and category of a `reviewed` entry.\n\n")


def format_sources(sources: list[dict]) -> str:
    """`path release:line release:line; other/path release:line` (one TOML string: an inline table per release
    makes the files twice as large and four times slower to load)."""
    by_path: dict[str, list[str]] = {}
    for s in sorted(sources, key=lambda s: _release_key(s["release"])):
        by_path.setdefault(s["path"], []).append(f"{s['release']}:{int(s['line'])}")
    return "; ".join(f"{path} {' '.join(refs)}" for path, refs in by_path.items())


def _release_key(release: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", release))


def update(mined: dict[str, Mined], releases: list[str], out_dir: Path, heuristics: Heuristics) -> Counter:
    """Merge `mined` into the TOML files of `out_dir`; returns counts of new/updated entries."""
    existing: dict[str, dict] = {}  # merge key -> entry
    area_of: dict[str, str] = {}
    ids: set[str] = set()
    for path in sorted(out_dir.glob("*.toml")):
        for item in tomllib.loads(path.read_text(encoding="utf-8")).get("message", []):
            item["source"] = [{"release": r.release, "path": r.path, "line": r.line} for r in parse_sources(item.get("source", []))]
            key = merge_key(item["template"])
            if key in existing and existing[key].get("reviewed") and not item.get("reviewed"):
                continue  # two entries became one message: the hand-reviewed one stays
            existing[key] = item
            area_of[item["id"]] = path.stem
            ids.add(item["id"])
    counts: Counter = Counter()
    for key, m in mined.items():
        entry = existing.get(key)
        src = [{"release": r, "path": p, "line": n} for (r, p), n in m.sources.items()]
        if entry is None:
            base_id = f"{m.area}.{slug(m.template)}"
            new_id, n = base_id, 2
            while new_id in ids:
                new_id, n = f"{base_id}-{n}", n + 1
            ids.add(new_id)
            entry = existing[key] = {"id": new_id, "relevance": heuristics.relevance(m), "category": heuristics.category(m)}
            area_of[new_id] = m.area
            counts["new"] += 1
        else:
            counts["updated"] += 1
            src = [s for s in entry.get("source", []) if s["release"] not in releases] + src
            # a text several classes write keeps the class it was first catalogued under (its id names that area)
            if entry.get("class") in m.variants and entry["class"] != m.cls:
                text, level, exception = m.variants[entry["class"]]
                m = Mined(text, area_of[entry["id"]], entry["class"], level, exception, m.sources, m.variants)
            if not entry.get("reviewed"):  # the miner's own guess is redone with the current heuristics
                entry["relevance"], entry["category"] = heuristics.relevance(m), heuristics.category(m)
        # the text is derived data, refreshed from the newest release read, unless a hand review fixed it
        template = entry["template"] if entry.get("reviewed") and entry.get("template") else m.template
        entry.update({"class": m.cls, "level": m.level, "template": template})
        if m.exception:
            entry["exception"] = m.exception
        entry["source"] = sorted(src, key=lambda s: _release_key(s["release"]))
    for key in [k for k, e in existing.items() if k not in mined and not e.get("reviewed")
                and {s["release"] for s in e.get("source", [])} <= set(releases)]:
        del existing[key]  # no longer in any release read: an older miner's reading, or removed from the source
        counts["dropped"] += 1
    by_id = {e["id"]: e for e in existing.values()}
    for item in tomllib.loads(REVIEW_FILE.read_text(encoding="utf-8")).get("review", []):
        entry = by_id.get(item["id"])
        if entry is None:
            print(f"{REVIEW_FILE}: reviewed id {item['id']} is no longer in the catalogue", file=sys.stderr)
            counts["review_missing"] += 1
            continue
        entry.update({k: v for k, v in item.items() if k != "id"})
        entry["reviewed"] = True
        counts["reviewed"] += 1
    by_area: dict[str, list[dict]] = defaultdict(list)
    for entry in existing.values():
        by_area[area_of[entry["id"]]].append(entry)
    for area, entries in by_area.items():
        body = HEADER.format(area=area) + "\n".join(write_entry(e) for e in sorted(entries, key=lambda e: e["id"]))
        (out_dir / f"{area}.toml").write_text(body, encoding="utf-8")
    return counts


# ---- the exception taxonomy ------------------------------------------------------------------------------------

_CLASS_RE = re.compile(r"\bclass\s+(\w+)(?:<[^>{]*>)?\s+extends\s+([\w.]+)")
EXCEPTION_DIRS = ("api/", "utils/", "engine/", "core/", "framework/", "agent/", "server/")


def mine_exceptions(tree: Tree, heuristics_data: dict) -> list[dict]:
    """Every CloudStack exception class with its parent, depth, and the family/category of its nearest listed
    ancestor (heuristics.toml `exception_family`), plus the external classes listed there."""
    parent: dict[str, str] = {}
    package: dict[str, str] = {}
    for path in tree.files():
        if path.endswith(("Exception.java", "Error.java")) and "/test/" not in path and path.startswith(EXCEPTION_DIRS):
            text = tree.read(path)
            m = _CLASS_RE.search(text)
            if m:
                parent[m.group(1)] = m.group(2).rsplit(".", 1)[-1]
                pkg = re.search(r"^package\s+([\w.]+);", text, re.M)
                package[m.group(1)] = pkg.group(1) if pkg else ""
    families = {f["ancestor"]: f for f in heuristics_data.get("exception_family", [])}
    out = []
    for cls in sorted(parent):
        chain = [cls]
        while chain[-1] in parent and len(chain) < 20:
            chain.append(parent[chain[-1]])
        family = next((families[c] for c in chain if c in families), None)
        if family is None:
            continue  # not a CloudStack family the diagnosis knows (plugin-specific checked exceptions)
        entry = {"class": cls, "package": package[cls], "parent": parent[cls], "depth": len(chain) - 1,
                 "family": family["family"], "category": family["category"]}
        for key in ("scope", "generic"):
            if key in family:
                entry[key] = family[key]
        out.append(entry)
    for ext in heuristics_data.get("external", []):
        out.append({**ext, "depth": ext.get("depth", 2)})
    return out


def write_exceptions(entries: list[dict], path: Path, release: str) -> None:
    lines = [f"# CloudStack's exception taxonomy, read from the class hierarchy of release {release} by",
             "# `python3 -m diagnostics.catalogue.mine --exceptions` (families: heuristics.toml). Hand edits are lost on a re-run:",
             "# change heuristics.toml instead.", ""]
    for e in entries:
        lines.append("[[exception]]")
        for key in ("class", "package", "parent", "depth", "family", "category", "scope", "generic", "note"):
            if key not in e:
                continue
            v = e[key]
            lines.append(f"{key} = {'true' if v is True else v if isinstance(v, int) else _q(str(v))}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def relink_vocabulary(out_dir: Path) -> Counter:
    """Point every phrase of vocabulary.toml at the catalogue template whose literal text holds it (ids move when
    the miner reads the source better); a phrase no template holds any more is reported, its link removed."""
    literals = []
    for path in sorted(out_dir.glob("*.toml")):
        for item in tomllib.loads(path.read_text(encoding="utf-8")).get("message", []):
            literals.append((len(item["template"]), item["id"], PLACEHOLDER_RE.sub("\x00", item["template"])))
    literals.sort()
    counts: Counter = Counter()

    def link(m: re.Match[str]) -> str:
        text = json.loads(m.group("text")).rstrip(".")
        found = next((tid for _, tid, lit in literals if text in lit), None)
        if found is None:
            counts["unlinked"] += 1
            print(f"{VOCABULARY_FILE}: phrase {text!r} is in no template any more", file=sys.stderr)
            return m.group("head") + 'origin = "cloudstack (no longer found in the mined classes)"'
        counts["linked"] += 1
        return m.group("head") + f"template = {_q(found)}"

    raw = VOCABULARY_FILE.read_text(encoding="utf-8")
    raw = re.sub(r'(?P<head>text = (?P<text>"(?:[^"\\]|\\.)*")\n(?:event = "[^"]*"\n)?)template = "[^"]*"', link, raw)
    VOCABULARY_FILE.write_text(raw, encoding="utf-8")
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m diagnostics.catalogue.mine", description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="CloudStack git directory or source tree")
    ap.add_argument("--release", action="append", default=[], metavar="LINE[=COMMIT]",
                    help="release line to read, at COMMIT (git) or as the tree is (no commit)")
    ap.add_argument("--all", action="store_true", help="every release line of sources.toml at its commit")
    ap.add_argument("--out", default=str(DATA_DIR), help="messages directory to write (default: the package's)")
    ap.add_argument("--exceptions", action="store_true",
                    help="also rewrite exceptions.toml from the newest release read (next to --out's parent)")
    args = ap.parse_args(argv)
    sources = tomllib.loads(SOURCES_FILE.read_text(encoding="utf-8"))
    heuristics = Heuristics(tomllib.loads(HEURISTICS_FILE.read_text(encoding="utf-8")))
    wanted: list[tuple[str, str | None]] = []
    if args.all:
        wanted += [(r, v["commit"]) for r, v in sources["releases"].items()]
    for item in args.release:
        line, _, commit = item.partition("=")
        wanted.append((line, commit or None))
    if not wanted:
        ap.error("give --all or at least one --release")
    if not os.path.isdir(args.src):
        print(f"{args.src}: not a directory", file=sys.stderr)
        return 2
    mined: dict[str, Mined] = {}
    stats: Counter = Counter()
    for release, commit in sorted(wanted, key=lambda w: _release_key(w[0]), reverse=True):  # newest text wins
        before = len(mined)
        try:
            mine_release(Tree(args.src, commit), release, sources["area"], mined, stats)
        except subprocess.CalledProcessError as exc:
            print(f"{args.src}: cannot read release {release} at {commit}: {exc.stderr.strip()}", file=sys.stderr)
            return 2
        per_release = sum(1 for m in mined.values() if release in m.releases())
        print(f"{release}: {per_release} templates ({len(mined) - before} not seen in a newer release)")
    if args.exceptions:
        newest, commit = max(wanted, key=lambda w: _release_key(w[0]))
        entries = mine_exceptions(Tree(args.src, commit), tomllib.loads(HEURISTICS_FILE.read_text(encoding="utf-8")))
        write_exceptions(entries, Path(args.out).parent / "exceptions.toml", newest)
        print(f"{len(entries)} exception classes -> {Path(args.out).parent / 'exceptions.toml'}")
    counts = update(mined, [w[0] for w in wanted], Path(args.out), heuristics)
    if Path(args.out).resolve() == DATA_DIR.resolve():
        linked = relink_vocabulary(Path(args.out))
        print(f"vocabulary.toml: {linked['linked']} phrases linked to templates, {linked['unlinked']} unlinked")
    print(f"{stats['calls']} calls read, {stats['no_literal']} without literal text; "
          f"{len(mined)} templates: {counts['new']} new, {counts['updated']} updated, {counts['dropped']} dropped, {counts['reviewed']} hand-reviewed "
          f"({counts['review_missing']} reviewed ids missing) -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
