"""Runs a test module's test_* functions without pytest: the shared test files
(codec, RNG) run under MicroPython too, where there is no pytest. Prints one
line per failure with its traceback and ends with "N passed, M failed"."""

import sys


def _print_exception(e):
    if hasattr(sys, "print_exception"):
        sys.print_exception(e)
    else:
        import traceback

        traceback.print_exc()


def run_all(g):
    """Call every test_* in the namespace g; return the number of failures."""
    passed = failed = 0
    for name in sorted(n for n in g if n.startswith("test_")):
        try:
            g[name]()
        except Exception as e:
            failed += 1
            print("FAIL", name)
            _print_exception(e)
        else:
            passed += 1
    print(str(passed) + " passed, " + str(failed) + " failed")
    return failed
