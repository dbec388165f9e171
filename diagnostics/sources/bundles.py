"""Bundles and sosreports as a source: unpacked safely for the duration of a `with` block, then discovered like
any folder, their files named to people as `case.tar.gz:files/...` rather than by the temporary folder.

Reading a bundle is where bytes come from, so it lives here beside files and discovery; writing one
(`diagnostics.bundle.create`) receives the analysis from the CLI and never imports the read side back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from diagnostics.bundle.evidence import EvidenceTree, is_bundle, open_evidence
from diagnostics.sources.discover import Discovery, discover


@contextlib.contextmanager
def opened_inputs(paths: list[str], host_evidence: dict[str, str] | None = None) -> Iterator[tuple[Discovery, list[str]]]:
    """Discover inputs, unpacking bundles and sosreports safely for the duration of the block."""
    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        expanded: list[str] = []
        early_errors: list[str] = []
        trees: dict[str, EvidenceTree] = {}
        for path in paths:
            tree = _open_bundle(path, stack, notes, early_errors)
            if tree is None:
                expanded.append(path)
            elif tree is _UNREADABLE:
                continue
            else:
                root = str(tree.root)
                expanded.append(root)
                trees[root] = tree
        found = discover(expanded, host_evidence)
        found.errors[:0] = early_errors
        found.errors[:] = [_display_in_message(m, trees) for m in found.errors]
        for item in found.inputs:
            for root, tree in trees.items():
                if item.path.startswith(root):
                    item.origin = str(tree.source)
                    item.display = tree.display_path
        yield found, notes


def _display_in_message(message: str, trees: dict[str, EvidenceTree]) -> str:
    for root, tree in trees.items():
        if root in message:
            head, _, tail = message.partition(": ")
            if head.startswith(root):
                return f"{tree.display_path(head)}: {tail}"
    return message


_UNREADABLE = object()


def _open_bundle(path: str, stack: contextlib.ExitStack, notes: list[str], errors: list[str]):
    """The opened tree of a bundle or sosreport at `path`, None for anything else, _UNREADABLE for a bad archive
    (its one-line reason appended to `errors`)."""
    try:
        if not is_bundle(path):
            return None
        tree = stack.enter_context(open_evidence(path))
    except Exception as exc:  # the bundle reader reports bad archives as exceptions with a one-line message
        message = str(exc)
        errors.append(message if message.startswith(path) else f"{path}: {message}")
        return _UNREADABLE
    notes.extend(tree.notes)
    errors.extend(tree.errors)
    return tree
