"""The common `main` of the job entry points: `--spec <path-or-uri>` in, result file out."""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from typing import Any, Callable, Optional, Sequence, Union

from .progress import error, progress
from .result import write_result
from .session import build_session, is_connect
from .spec import load_spec

JOB_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # PySpark records the Python call site of every DataFrame function for error messages (three
    # calls into the JVM each); the jobs build thousands of expressions and report their own errors.
    # A static setting: the warm driver's server is started with it (src/spark/local/warm-driver.ts).
    "spark.python.sql.dataFrameDebugging.enabled": "false",
    # normalize keeps each feed's rows in memory for minutes and reads them once or twice: the
    # columnar cache's compression (per-column statistics and encoding) cost a fifth of its CPU.
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
}

Runner = Callable[[Any, dict], dict]


def _resolve(runner: Union[Runner, str]) -> Runner:
    """A runner, or `"module:function"` imported here so import errors are reported too."""
    if callable(runner):
        return runner
    module, _, name = runner.partition(":")
    return getattr(importlib.import_module(module), name)


def main(job: str, runner: Union[Runner, str], argv: Optional[Sequence[str]] = None) -> int:
    """Runs one job. Any error is printed as one `NIGHTJAR_ERROR` line and raised again, so the
    process exits non-zero and the result file is never written."""
    parser = argparse.ArgumentParser(prog=job)
    parser.add_argument("--spec", required=True, help="path or file:// URI of spec.json")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code:
            error(ValueError(f"bad arguments: {list(argv) if argv is not None else sys.argv[1:]}"))
        raise
    started = time.monotonic()
    spark = None
    try:
        spec = load_spec(args.spec)
        if spec["job"] != job:
            raise ValueError(f"spec is for job '{spec['job']}', not '{job}'")
        progress("start", job=job, attemptId=spec["attemptId"], businessDate=spec["businessDate"])
        run = _resolve(runner)
        spark = build_session(spec["attemptId"], JOB_CONF)
        progress("session", job=job, sparkVersion=spark.version)
        result = run(spark, spec)
        write_result(spec["resultUri"], result, spark)
        progress("done", job=job, resultUri=spec["resultUri"], elapsedMs=int((time.monotonic() - started) * 1000))
    except BaseException as exc:  # noqa: BLE001 - reported, then raised again
        if not isinstance(exc, SystemExit):
            error(exc)
        if spark is not None and is_connect(spark):
            _release(spark)
        raise
    # After the result is written the attempt has succeeded; stopping is best effort.
    _release(spark)
    return 0


def _release(spark: Any) -> None:
    """Stops the session: a classic driver's context, or a warm driver's session of this
    attempt (the server drops its state; the server itself goes on). Best effort."""
    try:
        spark.stop()
    except Exception:  # noqa: BLE001
        pass
