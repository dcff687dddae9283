"""The reliability campaign (docs/RELIABILITY.md): CI budget by default, `--long` for more.

Every scenario records its figures (runs, failures found) with the `campaign` fixture; they
are collected in `build/reliability/figures.json` (`figures-long.json` for a `--long` run),
from which the table in docs/RELIABILITY.md is written (`python -m tests.reliability.report`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

FIGURES = Path(__file__).parents[2] / "build" / "reliability" / "figures.json"
FIGURES_LONG = FIGURES.with_name("figures-long.json")  # written by a `--long` run


@dataclass
class Scenario:
    name: str
    runs: int = 0
    failures: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Campaign:
    """Counts runs and failures per scenario for the figures table."""

    def __init__(self) -> None:
        self.scenarios: dict[str, Scenario] = {}

    def record(
        self, name: str, runs: int, failures: int = 0, note: str = "", seconds: float = 0.0
    ) -> None:
        scenario = self.scenarios.setdefault(name, Scenario(name))
        scenario.runs += runs
        scenario.failures += failures
        scenario.seconds += seconds
        if note:
            scenario.notes.append(note)

    def save(self, long_mode: bool) -> None:
        target = FIGURES_LONG if long_mode else FIGURES
        target.parent.mkdir(parents=True, exist_ok=True)
        previous: dict[str, dict] = {}
        if target.exists() and os.environ.get("KAMAROS_FIGURES_APPEND"):
            previous = json.loads(target.read_text()).get("scenarios", {})
        merged = {**previous, **{n: asdict(s) for n, s in self.scenarios.items()}}
        target.write_text(
            json.dumps(
                {
                    "long": long_mode,
                    "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "scenarios": merged,
                },
                indent=2,
            )
        )


_CAMPAIGN = Campaign()


@pytest.fixture(scope="session")
def long_mode(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("--long"))


@pytest.fixture(scope="session")
def campaign(pytestconfig: pytest.Config) -> Campaign:
    return _CAMPAIGN


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--long` runs go on for many minutes per scenario: no per-test timeout for them."""
    if config.getoption("--long"):
        for item in items:
            if "reliability" in item.nodeid:
                item.add_marker(pytest.mark.timeout(0))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _CAMPAIGN.scenarios:
        _CAMPAIGN.save(bool(session.config.getoption("--long")))
