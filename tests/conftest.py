"""Test-suite options: slow tests run in CI (``CI=true``) or with ``--run-slow``."""

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow") or consumer_env.in_ci():
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (CI runs it)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
