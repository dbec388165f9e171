"""csdiag: diagnose CloudStack Change-VM-Offering failures.

Data flows sources -> logs (records) -> facts -> engine (findings) -> correlate (incidents) -> report.
"""

__version__ = "0.1.0"
