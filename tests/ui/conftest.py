"""Names the browser tests' screenshot folder at the end of the session (the tests write there)."""

import pytest

SHOTS = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, config):
    shots = config.stash.get(SHOTS, [])
    if shots:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line("\n".join(str(p) for p in shots))
