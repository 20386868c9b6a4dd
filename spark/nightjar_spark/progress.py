"""The job's stdout protocol: `NIGHTJAR_PROGRESS {json}` and `NIGHTJAR_ERROR {json}` lines."""
from __future__ import annotations

import json
import sys
import time
from typing import Any

PROGRESS_PREFIX = "NIGHTJAR_PROGRESS"
ERROR_PREFIX = "NIGHTJAR_ERROR"
_MAX_MESSAGE = 2000
# Spark reports a driver that cannot hold a broadcast table as a SparkException whose
# message, not its class, tells that memory ran out.
OOM_MARKERS = (
    "OutOfMemoryError",
    "Java heap space",
    "GC overhead limit exceeded",
    "Not enough memory to build and broadcast the table",
)


def _emit(prefix: str, payload: dict[str, Any]) -> None:
    line = f"{prefix} {json.dumps(payload, separators=(',', ':'), default=str)}"
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def progress(phase: str, **fields: Any) -> None:
    """One progress line; the platform forwards the latest as the activity heartbeat."""
    payload: dict[str, Any] = {"phase": phase}
    payload.update(fields)
    payload["ts"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _emit(PROGRESS_PREFIX, payload)


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    joined = " | ".join(lines[:3]) if lines else ""
    return joined[:_MAX_MESSAGE]


def _java_chain(exc: BaseException) -> list[str]:
    """Class names of the JVM exception behind a Py4J / PySpark error, outermost first."""
    java = getattr(exc, "java_exception", None) or getattr(exc, "_origin", None)
    names: list[str] = []
    try:
        seen = 0
        while java is not None and seen < 10:
            names.append(f"{java.getClass().getName()}: {java.getMessage()}")
            java = java.getCause()
            seen += 1
    except Exception:  # the JVM may already be gone (e.g. after an OutOfMemoryError)
        pass
    return names


def error(exc: BaseException) -> None:
    """One line describing why the job failed (class and message)."""
    chain = _java_chain(exc)
    payload: dict[str, Any] = {"error": type(exc).__name__, "message": _one_line(str(exc))}
    if chain:
        payload["javaClass"] = chain[0].split(":", 1)[0]
        payload["javaCauses"] = [_one_line(c)[:300] for c in chain]
    text = " ".join([type(exc).__name__, str(exc)] + chain)
    payload["outOfMemory"] = any(marker in text for marker in OOM_MARKERS)
    _emit(ERROR_PREFIX, payload)
