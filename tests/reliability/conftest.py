"""The reliability campaign (docs/RELIABILITY.md): CI budget by default, `--long` for more.

Every scenario records its figures (runs, failures found) with the `campaign` fixture; they
are collected in `build/reliability/figures.json`, from which the table in
docs/RELIABILITY.md is written (`python -m tests.reliability.report`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

FIGURES = Path(__file__).parents[2] / "build" / "reliability" / "figures.json"


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

    def record(self, name: str, runs: int, failures: int = 0, note: str = "") -> None:
        scenario = self.scenarios.setdefault(name, Scenario(name))
        scenario.runs += runs
        scenario.failures += failures
        if note:
            scenario.notes.append(note)

    def save(self, long_mode: bool) -> None:
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        previous: dict[str, dict] = {}
        if FIGURES.exists() and os.environ.get("KAMAROS_FIGURES_APPEND"):
            previous = json.loads(FIGURES.read_text()).get("scenarios", {})
        merged = {**previous, **{n: asdict(s) for n, s in self.scenarios.items()}}
        FIGURES.write_text(
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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _CAMPAIGN.scenarios:
        _CAMPAIGN.save(bool(session.config.getoption("--long")))
