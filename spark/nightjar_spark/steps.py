"""A job's independent steps run side by side on one session (normalize's feeds, transform's reports).

At a night's usual sizes a Spark job is mostly the driver's own work: planning, code generation,
scheduling, a task or two. One step at a time leaves the second core idle while the driver works,
and a step whose last stage is one task (a sorted, single-file write) leaves it idle at any size.
Two steps at a time keep both busy; more only queue for the same cores.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Mapping, Sequence, TypeVar

T = TypeVar("T")

# Steps in flight at once when the spec does not say (`stepsAtOnce`: the worker sends
# NIGHTJAR_SPARK_STEPS_AT_ONCE on a job's first attempt, 1 on a retry). The driver's work is
# single-threaded per Spark job; two overlap it with the other step's tasks on a two-core
# executor; three measured no faster (README).
STEPS_AT_ONCE = 2
MAX_STEPS_AT_ONCE = 8


def steps_at_once(spec: Mapping[str, Any]) -> int:
    """The spec's `stepsAtOnce` (1 to 8), or the default when it has none."""
    value = spec.get("stepsAtOnce", STEPS_AT_ONCE)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STEPS_AT_ONCE:
        raise ValueError(f"spec stepsAtOnce must be a whole number from 1 to {MAX_STEPS_AT_ONCE}, got {value!r}")
    return value


def run_steps(
    names: Sequence[str],
    after: Mapping[str, Sequence[str]],
    run: Callable[[str], T],
    at_once: int = STEPS_AT_ONCE,
) -> dict[str, T]:
    """`run(name)` for every name, each after the names it depends on (`after[name]`, names not
    in `names` ignored), at most `at_once` at a time, started in the order of `names`.

    When a step fails no further step starts; the steps running finish, and the failure of the
    first failed step in the order of `names` is raised (the same one on every run that fails the
    same way). With `at_once=1` this is a loop over `names` in order."""
    if at_once < 1:
        raise ValueError(f"at_once must be at least 1, got {at_once}")
    known = set(names)
    misordered = [n for n in names for d in after.get(n, ()) if d in known and names.index(d) > names.index(n)]
    if misordered:
        raise ValueError(f"steps {misordered} come before a step they depend on")
    waiting = list(names)
    running: set[str] = set()
    done: dict[str, T] = {}
    failed: dict[str, BaseException] = {}
    changed = threading.Condition()

    def worker(name: str) -> None:
        try:
            value = run(name)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            with changed:
                failed[name] = exc
                running.discard(name)
                changed.notify_all()
            return
        with changed:
            done[name] = value
            running.discard(name)
            changed.notify_all()

    def ready(name: str) -> bool:
        return all(d in done or d not in known for d in after.get(name, ()))

    with changed:
        while waiting or running:
            startable = [] if failed else [n for n in waiting if ready(n)]
            while startable and len(running) < at_once:
                name = startable.pop(0)
                waiting.remove(name)
                running.add(name)
                threading.Thread(target=worker, args=(name,), name=f"step-{name}", daemon=True).start()
            if not running:
                break
            changed.wait()
    if failed:
        first = next(n for n in names if n in failed)
        raise failed[first]
    return {n: done[n] for n in names}
