"""The SparkSession of a job. Master, memory and cores come from the launcher, never from here."""
from __future__ import annotations

from typing import Mapping, Optional

from pyspark.sql import SparkSession


def build_session(attempt_id: str, conf: Optional[Mapping[str, str]] = None) -> SparkSession:
    builder = SparkSession.builder.appName(attempt_id)
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    # Runtime SQL settings also apply when a session already existed (tests).
    for key, value in (conf or {}).items():
        if key.startswith("spark.sql."):
            spark.conf.set(key, value)
    return spark
