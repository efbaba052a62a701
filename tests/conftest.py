"""Test-suite options: slow tests run in CI (``CI=true``) or with ``--run-slow``.

Hypothesis draws some values from the constants of the project's modules that
happen to be loaded (its "local constants", Hypothesis >= 6.131), so the examples a
derandomized test generates would depend on which tests ran before it and what
they imported, and would change whenever a module is added. The suite turns that
off (through a private hook; without it, nothing changes): each derandomized test
then sees the same examples however it is run.
"""

from __future__ import annotations

import pytest

import consumer_env


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="run tests marked slow (CI runs them always)",
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - Hypothesis is a test dependency
        return
    empty = getattr(providers, "_local_constants", None)
    if empty is not None and hasattr(providers, "_get_local_constants"):
        providers._get_local_constants = lambda: empty


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow") or consumer_env.in_ci():
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (CI runs it)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
