"""The SparkSession of a job. Master, memory and cores come from the launcher, never from here.

A job runs on a classic session (spark-submit starts its JVM) or, when `NIGHTJAR_SPARK_REMOTE`
names a Spark Connect server (`sc://host:port/;session_id=<uuid>`), on a session of that
server: a warm driver this machine keeps running. Such a session takes only runtime settings;
the attempt's own come as a JSON object in `NIGHTJAR_SPARK_SESSION_CONF`.
"""
from __future__ import annotations

import json
import os
from typing import Mapping, Optional

from pyspark.sql import SparkSession

REMOTE_ENV = "NIGHTJAR_SPARK_REMOTE"
SESSION_CONF_ENV = "NIGHTJAR_SPARK_SESSION_CONF"


def build_session(attempt_id: str, conf: Optional[Mapping[str, str]] = None) -> SparkSession:
    remote = os.environ.get(REMOTE_ENV)
    if remote:
        return _remote_session(remote, {**(conf or {}), **_attempt_conf()})
    builder = SparkSession.builder.appName(attempt_id)
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    # Runtime SQL settings also apply when a session already existed (tests).
    for key, value in (conf or {}).items():
        if key.startswith("spark.sql."):
            spark.conf.set(key, value)
    return spark


def is_connect(spark: SparkSession) -> bool:
    """A Spark Connect client's session (no RDDs, no JVM on this side), told apart without
    importing the Connect client, which a classic driver need not have installed."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def _remote_session(url: str, conf: Mapping[str, str]) -> SparkSession:
    """A session of the server at `url` with the runtime SQL settings of `conf`. The others are
    the server's, fixed when it started (the platform starts it with the jobs' own)."""
    spark = SparkSession.builder.remote(url).getOrCreate()
    for key, value in conf.items():
        if key.startswith("spark.sql."):
            spark.conf.set(key, value)
    return spark


def _attempt_conf() -> dict[str, str]:
    raw = os.environ.get(SESSION_CONF_ENV, "")
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"{SESSION_CONF_ENV} must be a JSON object of strings, got {raw[:200]!r}")
    return value
