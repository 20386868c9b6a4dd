"""run_steps: dependencies respected, at most N at once, the same failure on every run."""
from __future__ import annotations

import threading
import time

import pytest

from nightjar_spark.steps import run_steps


class Recorder:
    def __init__(self, pause: float = 0.05, fail: frozenset[str] = frozenset()):
        self.pause = pause
        self.fail = fail
        self.lock = threading.Lock()
        self.events: list[tuple[str, str]] = []
        self.now = 0
        self.most = 0

    def __call__(self, name: str) -> str:
        with self.lock:
            self.events.append(("start", name))
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.pause)
        with self.lock:
            self.events.append(("end", name))
            self.now -= 1
        if name in self.fail:
            raise ValueError(f"step {name} failed")
        return name.upper()

    def index(self, kind: str, name: str) -> int:
        return self.events.index((kind, name))


FEEDS = ["customers", "accounts", "fx_rates", "transactions", "payments"]
AFTER = {
    "accounts": ["customers"],
    "transactions": ["accounts", "fx_rates"],
    "payments": ["accounts", "fx_rates"],
}


def test_every_step_after_its_dependencies_and_results_in_order():
    rec = Recorder()
    out = run_steps(FEEDS, AFTER, rec)
    assert list(out) == FEEDS
    assert out == {n: n.upper() for n in FEEDS}
    for name, deps in AFTER.items():
        for dep in deps:
            assert rec.index("end", dep) < rec.index("start", name), (dep, name)


def test_independent_steps_overlap_but_never_more_than_allowed():
    rec = Recorder()
    run_steps(FEEDS, AFTER, rec)
    assert rec.most == 2
    # customers and fx rates overlap; transactions and payments overlap
    assert rec.index("start", "fx_rates") < rec.index("end", "customers")
    assert rec.index("start", "payments") < rec.index("end", "transactions")
    three = Recorder()
    run_steps([str(i) for i in range(7)], {}, three, at_once=3)
    assert three.most == 3


def test_one_at_a_time_is_the_loop_in_order():
    rec = Recorder(pause=0.0)
    run_steps(FEEDS, AFTER, rec, at_once=1)
    assert rec.events == [e for n in FEEDS for e in (("start", n), ("end", n))]


def test_a_failure_stops_new_steps_and_the_first_in_order_is_raised():
    # fx_rates fails while customers runs; accounts (next) must not start.
    rec = Recorder(fail=frozenset({"fx_rates", "customers"}))
    with pytest.raises(ValueError, match="step customers failed"):
        run_steps(FEEDS, AFTER, rec)
    started = {n for kind, n in rec.events if kind == "start"}
    assert started == {"customers", "fx_rates"}
    assert rec.now == 0  # every started step finished before the failure was raised


def test_a_failed_step_waits_for_the_other_running_step():
    slow_done = threading.Event()

    def run(name: str) -> str:
        if name == "a":
            raise ValueError("a failed")
        time.sleep(0.2)
        slow_done.set()
        return name

    with pytest.raises(ValueError, match="a failed"):
        run_steps(["a", "b", "c"], {}, run)
    assert slow_done.is_set()


def test_dependencies_outside_the_steps_are_ignored_and_bad_orders_refused():
    assert run_steps(["b"], {"b": ["a"]}, lambda n: n) == {"b": "b"}
    with pytest.raises(ValueError, match="before a step they depend on"):
        run_steps(["b", "a"], {"b": ["a"]}, lambda n: n)
    with pytest.raises(ValueError, match="at least 1"):
        run_steps(["a"], {}, lambda n: n, at_once=0)


def test_the_specs_steps_at_once_is_checked():
    from nightjar_spark.steps import STEPS_AT_ONCE, steps_at_once

    assert steps_at_once({}) == STEPS_AT_ONCE
    assert steps_at_once({"stepsAtOnce": 1}) == 1
    assert steps_at_once({"stepsAtOnce": 8}) == 8
    for bad in (0, 9, 2.5, "2", True, None):
        with pytest.raises(ValueError, match="stepsAtOnce must be a whole number from 1 to 8"):
            steps_at_once({"stepsAtOnce": bad})
