"""`python3 -m tests.corpus.report [-v]`: csdiag's accuracy on the real-world corpus, without pytest.

-v also lists every case with csdiag's answer and whether the case is a recorded known gap.
"""

from __future__ import annotations

import sys

from tests.corpus.corpus import accuracy_table, load_cases, verdict


def main(argv: list[str]) -> int:
    results = [(case, verdict(str(case.path))) for case in load_cases()]
    if "-v" in argv:
        for case, v in results:
            mark = "ok  " if v.right else "MISS"
            gap = " [known gap]" if case.known_gap else ""
            print(f"{mark} {case.name:<48} {v.why}{gap}")
        print()
    print(accuracy_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
