"""tests/pyktap.py - what the Python host tests share: loading a tool by path,
collecting cases and printing them as KTAP (like the C suites' ktest.c).

Not a test itself (run-tests runs tests/test_*.py).
"""
import importlib.machinery
import importlib.util
import os

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools")


def load_tool(module_name, file_name):
    """tools/FILE_NAME (a script without .py) as a module."""
    loader = importlib.machinery.SourceFileLoader(module_name, os.path.join(TOOLS, file_name))
    spec = importlib.util.spec_from_loader(module_name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class Cases:
    """Results in order; case(name, ok, why) records one."""

    def __init__(self, suite):
        self.suite, self.results = suite, []

    def case(self, name, ok, why=""):
        self.results.append((name, bool(ok), why))

    def run(self, *tests):
        """Call each test function; one that raises is a failed case, not a lost stream."""
        for t in tests:
            try:
                t()
            except Exception as e:
                self.case(t.__name__, False, f"{type(e).__name__}: {e}")

    def report(self):
        """Print the KTAP stream; the exit status: 0 if every case passed."""
        print("KTAP version 1")
        print(f"1..{len(self.results)}")
        for i, (name, ok, why) in enumerate(self.results, 1):
            line = f"ok {i} - {self.suite}.{name}" if ok else f"not ok {i} - {self.suite}.{name} # {why}"
            print(line)
        return 0 if all(ok for _, ok, _ in self.results) else 1
