"""Support bundles: create (collect, redact, pseudonymise, manifest), verify, inspect, and open safely for analysis.

Public entry points:
    create_bundle(BundleOptions(out=..., paths=[...])) -> BundleResult
    verify_bundle(path, key=None) -> Verification (signature checked with an OpenSSH public key; sign.py)
    open_evidence(path) -> ContextManager[EvidenceTree]      is_bundle(path) -> bool
    Redactor().line(text) / redact_text(text)     Pseudonymizer     (forms of secrets: redaction.toml)
"""

from diagnostics.bundle.create import BundleError, BundleOptions, BundleResult, create_bundle, map_path_for
from diagnostics.bundle.evidence import EvidenceError, EvidenceTree, is_bundle, open_evidence
from diagnostics.bundle.extract import ExtractLimits
from diagnostics.bundle.pseudonymize import Pseudonymizer
from diagnostics.bundle.redact import MARK, Redactor, redact_text

__all__ = [
    "MARK",
    "BundleError",
    "BundleOptions",
    "BundleResult",
    "EvidenceError",
    "EvidenceTree",
    "ExtractLimits",
    "Pseudonymizer",
    "Redactor",
    "create_bundle",
    "is_bundle",
    "map_path_for",
    "open_evidence",
    "redact_text",
]
