"""Atomic writing of the job's result file (its presence means the attempt succeeded)."""
from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from .spec import is_local, local_path


def write_result(uri: str, result: dict[str, Any], spark: Any = None) -> None:
    """Writes `result` as JSON to `uri`: a temporary file beside it, then a rename."""
    body = json.dumps(result, indent=2, sort_keys=False) + "\n"
    if is_local(uri):
        path = local_path(uri)
        directory = os.path.dirname(path) or "."
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return
    if spark is None:
        raise ValueError(f"a SparkSession is needed to write the result to {uri}")
    if type(spark).__module__.startswith("pyspark.sql.connect"):
        raise ValueError(f"a job on the warm driver writes its result to a local path only, not to {uri}")
    _write_hadoop(spark, uri, body)


def _write_hadoop(spark: Any, uri: str, body: str) -> None:
    """Other schemes (object stores on Kubernetes) through the Hadoop FileSystem API."""
    jvm = spark._jvm  # noqa: SLF001 - the public API has no file-system access
    conf = spark._jsc.hadoopConfiguration()  # noqa: SLF001
    target = jvm.org.apache.hadoop.fs.Path(uri)
    fs = target.getFileSystem(conf)
    tmp = jvm.org.apache.hadoop.fs.Path(target.getParent(), f".tmp-{target.getName()}")
    out = fs.create(tmp, True)
    try:
        out.write(bytearray(body.encode("utf-8")))
    finally:
        out.close()
    if fs.exists(target):
        fs.delete(target, False)
    if not fs.rename(tmp, target):
        raise IOError(f"could not rename {tmp} to {target}")
