"""Rules x facts -> findings.

How a condition is evaluated: the first kind the condition names outside some()/no()/count() is the
*anchor*; every fact of that kind is tried. Each other kind the condition names is bound to one fact that
*joins* the anchor: it shares one of the rule's join keys (host id or name, VM name or uuid, job or work job,
logid) and lies within the rule's window of the anchor's time (facts without a time, like `free` output, join
regardless of time). The condition holds if some choice of joined facts makes it true; a kind with nothing
joined is bound to nothing (fields are null). some()/no()/count() range over all joined facts of their kind.

Cost stays linear-ish: facts are indexed once per kind and join key and sorted by time, so joined facts are
found by bisecting a window, never by pairing everything with everything; a top-level `and` term that only
looks at one kind filters that kind's facts before any join.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from diagnostics.engine.language import And, Compiled, Condition, Node, compile_node, kind_references, truthy
from diagnostics.engine.rule import Rule, RuleSet
from diagnostics.engine.template import render
from diagnostics.model import CATEGORIES, SEVERITIES, Evidence, Fact, Finding
from diagnostics.model.identity import Identities

MAX_BOUND_CANDIDATES = 64  # per bound kind and anchor, nearest in time first
MAX_EVIDENCE = 40  # evidence lines kept per finding (the count says how many matched)


# ---------------------------------------------------------------- identities and keys


class Aliases:
    """The engine's view of the one identity resolver (diagnostics.model.identity): a fact's host as (id, lower-case
    name) and its VM name, completed from what other facts said about the same host or VM."""

    __slots__ = ("ids",)

    def __init__(self, ids: Identities) -> None:
        self.ids = ids

    @classmethod
    def learn(cls, facts: Iterable[Fact]) -> "Aliases":
        return cls(Identities.learn(facts))

    def host(self, fact: Fact) -> tuple[int | None, str | None]:
        host_id, name = fact.host_id, fact.host_name.lower() if fact.host_name else None
        if host_id is None or name is None:
            entity = self.ids.host(fact)
            if entity is not None:
                host_id = entity.id if host_id is None else host_id
                name = entity.name.lower() if name is None and entity.name else name
        return host_id, name

    def vm(self, fact: Fact) -> str | None:
        if fact.vm or not fact.vm_uuid:
            return fact.vm
        entity = self.ids.vm(fact)
        return entity.name if entity is not None else None


def join_keys(fact: Fact, keys: tuple[str, ...], aliases: Aliases) -> list[tuple[str, Any]]:
    """The keys a fact joins others by: one per host and VM it names (however named), its jobs and logid. A host or
    VM the resolver cannot pin down (no names, or only a name several share) joins by its raw names."""
    out: list[tuple[str, Any]] = []
    if "host" in keys and (fact.host_id is not None or fact.host_name):
        host = aliases.ids.host(fact)
        if host is not None:
            out.append(("host", host.token))
        else:
            if fact.host_id is not None:
                out.append(("host_id", fact.host_id))
            if fact.host_name:
                out.append(("host_name", fact.host_name.lower()))
    if "vm" in keys and (fact.vm or fact.vm_uuid):
        vm = aliases.ids.vm(fact)
        if vm is not None:
            out.append(("vm", vm.token))
        else:
            if fact.vm:
                out.append(("vm_name", fact.vm))
            if fact.vm_uuid:
                out.append(("vm_uuid", fact.vm_uuid))
    if "job" in keys:
        for job in {fact.job, fact.work_job} - {None}:
            out.append(("job", job))
    if "logid" in keys and fact.logid:
        out.append(("logid", fact.logid))
    return out


def _epoch(ts: datetime | None) -> float | None:
    return ts.timestamp() if ts is not None else None


class _Bucket:
    """The facts of one join key that names more than one fact."""

    __slots__ = ("times", "timed", "timeless")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.timed: list[Fact] = []
        self.timeless: list[Fact] = []

    def add(self, fact: Fact, at: float | None) -> None:
        if at is None:
            self.timeless.append(fact)
        else:
            self.times.append(at)
            self.timed.append(fact)


class KindIndex:
    """The facts of one kind (already filtered), bucketed by join key and sorted by time.

    A key that names one fact holds that fact itself, not a bucket of three lists: in a busy log most job, logid and
    VM keys name one fact of a kind, and the buckets were most of the engine's memory."""

    def __init__(self, facts: list[Fact], keys: tuple[str, ...], aliases: Aliases) -> None:
        self.facts = facts
        self.buckets: dict[tuple[str, Any], _Bucket | Fact] = {}
        buckets = self.buckets
        for fact in facts:
            found = join_keys(fact, keys, aliases)
            if not found:
                continue
            at = fact.ts.timestamp() if fact.ts is not None else None  # once per fact, not per key and per sort
            for key in found:
                held = buckets.get(key)
                if held is None:
                    buckets[key] = fact
                elif type(held) is _Bucket:
                    held.add(fact, at)
                else:  # the second fact of this key: now a bucket, in the order the facts came
                    bucket = buckets[key] = _Bucket()
                    bucket.add(held, _epoch(held.ts))
                    bucket.add(fact, at)
        for bucket in buckets.values():  # facts come sorted by time (pipeline.collect): most buckets are in order
            if type(bucket) is not _Bucket:
                continue
            times = bucket.times
            if any(times[i] > times[i + 1] for i in range(len(times) - 1)):
                order = sorted(range(len(times)), key=times.__getitem__)  # stable, as a sort of the facts by time
                bucket.timed = [bucket.timed[i] for i in order]
                bucket.times = [times[i] for i in order]

    def joined(self, keys: list[tuple[str, Any]], at: float | None, window: float | None) -> list[Fact]:
        seen: set[int] = set()
        out: list[Fact] = []
        for key in keys:
            bucket = self.buckets.get(key)
            if bucket is None:
                continue
            if type(bucket) is not _Bucket:  # one fact: in the window, or without a time
                if at is not None and window is not None and bucket.ts is not None:
                    t = bucket.ts.timestamp()
                    if t < at - window or t > at + window:
                        continue
                members: Iterable[Fact] = (bucket,)
            elif at is None or window is None:
                members = itertools.chain(bucket.timed, bucket.timeless)
            else:
                lo = bisect.bisect_left(bucket.times, at - window)
                hi = bisect.bisect_right(bucket.times, at + window)
                members = itertools.chain(bucket.timed[lo:hi], bucket.timeless)
            for fact in members:
                if id(fact) not in seen:
                    seen.add(id(fact))
                    out.append(fact)
        return out


# ---------------------------------------------------------------- planning a condition


def _conjuncts(root: Node) -> list[Node]:
    return list(root.items) if isinstance(root, And) else [root]


class _EmptyEnv:
    def __init__(self) -> None:
        self.binding: dict[str, Any] = {}

    def candidates(self, kind: str) -> list[Any]:
        return []


def single_kind_filters(condition: Condition) -> dict[str, list[Compiled]]:
    """Top-level `and` terms that look at one bound kind only and are false when that kind is absent."""
    filters: dict[str, list[Compiled]] = {}
    for term in _conjuncts(condition.root):
        references = kind_references(term)
        kinds = {kind for _, kind, _ in references}
        if len(kinds) != 1 or any(quantified for _, _, quantified in references):
            continue
        (kind,) = kinds
        try:
            holds_without = truthy(term.eval(_EmptyEnv()))
        except Exception:  # noqa: BLE001  (a term that cannot run without facts is not a filter)
            continue
        if not holds_without:
            filters.setdefault(kind, []).append(compile_node(term))
    return filters


class _Env:
    """The evaluation environment of one anchor fact."""

    __slots__ = ("binding", "anchor_keys", "anchor_at", "window", "indexes")

    def __init__(self, indexes: dict[str, KindIndex], window: float | None) -> None:
        self.binding: dict[str, Any] = {}
        self.anchor_keys: list[tuple[str, Any]] = []
        self.anchor_at: float | None = None
        self.window = window
        self.indexes = indexes

    def candidates(self, kind: str) -> list[Fact]:
        index = self.indexes.get(kind)
        if index is None:
            return []
        return index.joined(self.anchor_keys, self.anchor_at, self.window)


# ---------------------------------------------------------------- matching one rule


@dataclass(slots=True)
class Match:
    anchor: Fact
    bound: dict[str, Fact | None]


def match_rule(rule: Rule, by_kind: dict[str, list[Fact]], aliases: Aliases,
               shared: dict[tuple, KindIndex] | None = None) -> list[Match]:
    """`shared`: the indexes of whole kinds (what some()/no()/count() see) built for earlier rules of the same
    evaluation, by kind and join keys; they do not depend on the rule, so each is built once."""
    condition = rule.condition
    filters = single_kind_filters(condition)
    probe = _EmptyEnv()

    def passing(kind: str) -> list[Fact]:
        terms = filters.get(kind)
        facts = by_kind.get(kind, [])
        if not terms:
            return list(facts)
        kept = []
        binding = probe.binding = {}
        for fact in facts:
            binding[kind] = fact
            for term in terms:
                value = term(probe)
                if value is None or not value:
                    break
            else:
                kept.append(fact)
        return kept

    anchors = passing(condition.anchor)
    if not anchors:
        return []
    others = condition.bound_kinds[1:]
    # a kind bound to one fact sees only facts passing its own filters; some()/no()/count() see them all
    bound_indexes = {kind: KindIndex(passing(kind), rule.join, aliases) for kind in others}
    shared = {} if shared is None else shared
    quantified_indexes = {}
    for kind in condition.quantified_kinds:
        index = shared.get((kind, rule.join))
        if index is None:
            index = shared[(kind, rule.join)] = KindIndex(list(by_kind.get(kind, ())), rule.join, aliases)
        quantified_indexes[kind] = index
    env = _Env(quantified_indexes, rule.window)
    limit = MAX_BOUND_CANDIDATES if len(others) <= 2 else 8
    matches: list[Match] = []
    for anchor in anchors:
        env.binding = {condition.anchor: anchor}
        if others or condition.quantified_kinds:
            env.anchor_keys = join_keys(anchor, rule.join, aliases)
            env.anchor_at = _epoch(anchor.ts)
        options: list[list[Fact | None]] = []
        for kind in others:
            joined: list[Fact | None] = list(bound_indexes[kind].joined(env.anchor_keys, env.anchor_at, rule.window))
            if len(joined) > limit:  # keep the nearest in time (the latest, for an anchor without a time)
                at = env.anchor_at
                joined.sort(key=lambda f: abs((_epoch(f.ts) or at) - at) if at is not None else -(_epoch(f.ts) or 0.0))  # type: ignore[union-attr]
                joined = joined[:limit]
            options.append(joined or [None])
        for combination in itertools.product(*options):
            for kind, fact in zip(others, combination):
                env.binding[kind] = fact
            if condition.eval(env):
                matches.append(Match(anchor, {kind: env.binding.get(kind) for kind in condition.bound_kinds}))
                break
    return matches


# ---------------------------------------------------------------- findings


@dataclass(slots=True)
class _Group:
    rule: Rule
    first: Match
    matches: list[Match] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)
    vms: set[str] = field(default_factory=set)
    jobs: set[int] = field(default_factory=set)
    logids: set[str] = field(default_factory=set)


def _entities_of(match: Match, aliases: Aliases) -> dict[str, Any]:
    facts = [match.anchor, *(f for f in match.bound.values() if f is not None and f is not match.anchor)]
    entities: dict[str, Any] = {}
    for fact in facts:
        host_id, host_name = aliases.host(fact)
        candidates = {
            "vm": aliases.vm(fact), "vm_uuid": fact.vm_uuid, "host_id": host_id,
            "host_name": fact.host_name or host_name, "job": fact.job, "work_job": fact.work_job, "logid": fact.logid,
        }
        for key, value in candidates.items():
            if value is not None and value != "" and key not in entities:
                entities[key] = value
    if "host_name" in entities or "host_id" in entities:
        entities["host"] = str(entities.get("host_name") or entities["host_id"])
    return entities


def _group_key(rule: Rule, entities: dict[str, Any], match: Match) -> tuple[Any, ...]:
    """Entity keys, or `kind.field` of a bound fact (e.g. one finding per catalogue template)."""
    out = []
    for key in rule.group_by:
        kind, dot, name = key.partition(".")
        if dot:
            fact = match.bound.get(kind)
            out.append(getattr(fact, name, None) if fact is not None else None)
        else:
            out.append(entities.get(key))
    return tuple(out)


def _category(rule: Rule, binding: dict[str, Any], entities: dict[str, Any]) -> str:
    """The rule's category, or the one its template takes from the fact (`{log_record.category}`); a value
    outside the known categories reads `other`."""
    if "{" not in rule.category:
        return rule.category
    value = render(rule.category, binding, entities)
    return value if value in CATEGORIES else "other"


def findings_for_rule(rule: Rule, matches: list[Match], aliases: Aliases) -> list[tuple[Finding, _Group]]:
    groups: dict[tuple[Any, ...], _Group] = {}
    for match in sorted(matches, key=lambda m: (m.anchor.ts is None, _epoch(m.anchor.ts) or 0.0, m.anchor.path, m.anchor.line)):
        entities = _entities_of(match, aliases)
        key = _group_key(rule, entities, match)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(rule, match)
        group.matches.append(match)
        if "host" in entities:
            group.hosts.add(str(entities["host"]).lower())
            if "host_id" in entities:
                group.hosts.add(str(entities["host_id"]))
        if "vm" in entities:
            group.vms.add(entities["vm"])
        for fact in [match.anchor, *match.bound.values()]:
            if fact is not None:
                group.jobs.update(j for j in (fact.job, fact.work_job) if j is not None)
                if fact.logid:
                    group.logids.add(fact.logid)
    _merge_partial_groups(groups)
    out: list[tuple[Finding, _Group]] = []
    for group in groups.values():
        entities = _entities_of(group.first, aliases)
        jobs = sorted({m.anchor.job for m in group.matches if m.anchor.job is not None})
        logids = sorted({m.anchor.logid for m in group.matches if m.anchor.logid})
        if len(jobs) > 1:
            entities["jobs"] = jobs
        if len(logids) > 1:
            entities["logids"] = logids
        evidence: dict[tuple[str, int], Evidence] = {}
        for match in group.matches:
            for fact in [match.anchor, *(f for f in match.bound.values() if f is not None)]:
                if len(evidence) >= MAX_EVIDENCE:
                    break
                evidence.setdefault((fact.path, fact.line), fact.evidence)
        times = [m.anchor.ts for m in group.matches if m.anchor.ts is not None]
        binding = dict(group.first.bound)
        finding = Finding(
            rule_id=rule.id, category=_category(rule, binding, entities), severity=rule.severity, confidence=rule.confidence,
            title=rule.title, message=render(rule.message, binding, entities), entities=entities,
            first_ts=min(times, key=_epoch) if times else None, last_ts=max(times, key=_epoch) if times else None,
            evidence=sorted(evidence.values(), key=lambda e: (e.path, e.line)),
            remediation=[render(step, binding, entities) for step in rule.remediation],
            references=list(rule.references), count=len(group.matches), benign=rule.benign, fallback=rule.fallback,
        )
        out.append((finding, group))
    return out


def _merge_partial_groups(groups: dict[tuple[Any, ...], _Group]) -> None:
    """Fold a group that lacks some entity (agent.log lines rarely name their host) into the one group it
    is compatible with and shares a logid or job with: one incident seen from both sides is one finding."""
    for key in sorted(groups, key=lambda k: sum(v is not None for v in k)):
        group = groups.get(key)
        if group is None or all(value is not None for value in key):
            continue
        partners = [other_key for other_key, other in groups.items()
                    if other_key != key and all(a is None or a == b for a, b in zip(key, other_key))
                    and (group.logids & other.logids or group.jobs & other.jobs)]
        if len(partners) != 1:
            continue
        target = groups[partners[0]]
        target.matches.extend(group.matches)
        target.matches.sort(key=lambda m: (m.anchor.ts is None, _epoch(m.anchor.ts) or 0.0, m.anchor.path, m.anchor.line))
        target.hosts |= group.hosts
        target.vms |= group.vms
        target.jobs |= group.jobs
        target.logids |= group.logids
        del groups[key]


def _shares_entity(a: _Group, b: _Group) -> bool:
    return bool(a.vms & b.vms or a.hosts & b.hosts or a.jobs & b.jobs or a.logids & b.logids)


def _mark_symptoms(results: list[tuple[Finding, _Group]]) -> None:
    by_rule: dict[str, list[_Group]] = {}
    for _, group in results:
        by_rule.setdefault(group.rule.id, []).append(group)
    for finding, group in results:
        finding.symptom_of = [
            cause for cause in group.rule.symptom_of
            if any(_shares_entity(group, other) for other in by_rule.get(cause, ()))
        ]


def facts_by_kind(facts: Iterable[Fact]) -> dict[str, list[Fact]]:
    by_kind: dict[str, list[Fact]] = {}
    for fact in facts:
        by_kind.setdefault(fact.kind, []).append(fact)
    return by_kind


def evaluate(ruleset: RuleSet | list[Rule], facts: list[Fact], identities: Identities | None = None) -> list[Finding]:
    """Run every rule over the facts; findings are grouped per rule and entities; causes first, then symptoms.
    `identities`: who is who, when the caller learnt it already (the pipeline does); else learnt from `facts`.

    A rule that fails at run time is skipped and, when a RuleSet is given, reported in `ruleset.errors`.
    """
    rules = ruleset.rules if isinstance(ruleset, RuleSet) else list(ruleset)
    rules = sorted(rules, key=lambda r: r.fallback)  # specific rules first: fallback rules skip what they explain
    by_kind = facts_by_kind(facts)
    aliases = Aliases(identities) if identities is not None else Aliases.learn(facts)
    results: list[tuple[Finding, _Group]] = []
    explained: set[tuple[str, int]] = set()  # path:line of every fact a specific rule's match used
    shared: dict[tuple, KindIndex] = {}
    for rule in rules:
        if rule.condition.anchor not in by_kind:
            continue
        try:
            matches = match_rule(rule, by_kind, aliases, shared)
            if rule.fallback:
                matches = [m for m in matches if (m.anchor.path, m.anchor.line) not in explained]
            else:
                for m in matches:
                    explained.update((f.path, f.line) for f in (m.anchor, *m.bound.values()) if f is not None)
            results.extend(findings_for_rule(rule, matches, aliases))
        except Exception as exc:  # noqa: BLE001  (one faulty rule must not sink the whole diagnosis)
            if isinstance(ruleset, RuleSet):
                error = f"{rule.path}:1:1: rule {rule.id} failed during evaluation and was skipped: {type(exc).__name__}: {exc}"
                if error not in ruleset.errors:
                    ruleset.errors.append(error)
    _mark_symptoms(results)
    findings = [finding for finding, _ in results]
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    # causes before their symptoms, benign noise last, then by severity and time
    findings.sort(key=lambda f: (f.benign, bool(f.symptom_of), rank.get(f.severity, 99), f.first_ts is None,
                                 _epoch(f.first_ts) or 0.0, f.rule_id))
    return findings
