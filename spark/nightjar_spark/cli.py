"""The common `main` of the job entry points: `--spec <path-or-uri>` in, result file out."""
from __future__ import annotations

import argparse
import time
from typing import Any, Callable, Optional, Sequence

from .progress import error, progress
from .result import write_result
from .session import build_session
from .spec import load_spec

JOB_CONF = {"spark.sql.session.timeZone": "UTC"}

Runner = Callable[[Any, dict], dict]


def main(job: str, runner: Runner, argv: Optional[Sequence[str]] = None) -> int:
    """Runs one job. Any error is printed as one `NIGHTJAR_ERROR` line and raised again, so the
    process exits non-zero and the result file is never written."""
    parser = argparse.ArgumentParser(prog=job)
    parser.add_argument("--spec", required=True, help="path or file:// URI of spec.json")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        spec = load_spec(args.spec)
        if spec["job"] != job:
            raise ValueError(f"spec is for job '{spec['job']}', not '{job}'")
        progress("start", job=job, attemptId=spec["attemptId"], businessDate=spec["businessDate"])
        spark = build_session(spec["attemptId"], JOB_CONF)
        progress("session", job=job, sparkVersion=spark.version)
        result = runner(spark, spec)
        write_result(spec["resultUri"], result, spark)
        progress("done", job=job, resultUri=spec["resultUri"], elapsedMs=int((time.monotonic() - started) * 1000))
        spark.stop()
        return 0
    except BaseException as exc:  # noqa: BLE001 - reported, then raised again
        if not isinstance(exc, SystemExit):
            error(exc)
        raise
