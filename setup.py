"""Build step: ship the top-level `rules/` folder inside the package (as `diagnostics/rules/`).

Why: `rules/` stays at the top of the checkout (the design card fixes it there, and rule authors find it there), but
a wheel, `pip install .`, pipx or a distro package only ships what lies inside the package. Without this copy a
normal install has no rules and every analysis would be silently empty. Editable installs read `rules/` in place
(`diagnostics.engine.loader.builtin_rules_dir` looks in both places).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithRules(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads rules/ from the checkout
        source = ROOT / "rules"
        target = Path(self.build_lib) / "diagnostics" / "rules"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]"))


setup(cmdclass={"build_py": BuildWithRules})
