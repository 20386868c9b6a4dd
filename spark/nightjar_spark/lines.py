"""A text file as rows of physical lines with exact 1-based line numbers (DataFrame API only)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .session import is_connect

LINE_COLUMN = "_nj_line"
LINE_NO_COLUMN = "_nj_line_no"
TOTAL_COLUMN = "_nj_total"

# File names Hadoop decompresses when it reads them (its codecs are chosen by suffix): their bytes
# are not their lines, so such a file is never counted here.
_COMPRESSED_SUFFIXES = (".gz", ".bz2", ".deflate", ".lz4", ".snappy", ".zst", ".zstd", ".br", ".xz", ".lzo")
_CHUNK = 1 << 20
# A file up to this size is read as one split (`read_small_files_whole`).
WHOLE_FILE_BYTES = 16 << 20


class LineCountMismatch(ValueError):
    """The file changed between the count of its lines and the end of its reading."""


def count_lines(path: str) -> int:
    """Physical lines of a local file as Spark's text reader splits them: LF, CRLF and CR each end
    a line; a last line without a terminator counts; an empty file has none."""
    lines = 0
    pending_cr = False
    last = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            # A CRLF is counted by its LF and its CR: take one back, also when split by the chunk.
            lines += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if pending_cr and chunk.startswith(b"\n"):
                lines -= 1
            pending_cr = chunk.endswith(b"\r")
            last = chunk[-1:]
    if last not in (b"", b"\n", b"\r"):
        lines += 1
    return lines


def read_small_files_whole(spark: SparkSession) -> None:
    """Files up to `WHOLE_FILE_BYTES` read as one split, larger ones split across the cores.

    Spark cuts a file into splits of max(openCostInBytes, the input's size / its cores), at most
    maxPartitionBytes; by default (4 MiB) a 6 MB feed becomes two splits. A file of one split is
    numbered and counted without a Spark job, and normalize keeps its rows with every rule, so its
    rejects write is one job: for a small file that saves more driver time (the numbering's jobs,
    the rejects' joins) than the second core saves in its scan."""
    spark.conf.set("spark.sql.files.openCostInBytes", str(WHOLE_FILE_BYTES))


def _identity(path: str) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


@dataclass
class NumberedLines:
    """The numbered lines and, when their count came from the file's bytes rather than from
    Spark, the file it was counted in and the file's identity (device, inode, size, mtime) then."""

    frame: DataFrame
    counted_in: Optional[str] = None
    counted: Optional[int] = None
    identity: Optional[tuple[int, int, int, int]] = None

    @property
    def one_partition(self) -> bool:
        """Numbered as one partition: a local file small enough for one split."""
        return self.counted_in is not None

    def check(self) -> None:
        """After the last read of the rows: raises `LineCountMismatch` when the counted file is
        no longer the file that was counted (then Spark may have read other lines)."""
        if self.counted_in is None:
            return
        now = _identity(self.counted_in) if os.path.exists(self.counted_in) else None
        if now != self.identity:
            raise LineCountMismatch(
                f"the file changed while it was read ({self.counted} lines counted; size, time or inode differ now)"
            )


def numbered_lines(spark: SparkSession, path: str, local_file: Optional[str] = None) -> NumberedLines:
    """Rows `(_nj_line, _nj_line_no, _nj_total)`: every physical line of `path`, its number, and
    the file's line count.

    `spark.read.text` splits on LF, CRLF and CR, so a line never carries its terminator.
    `monotonically_increasing_id` is the partition index in the upper bits plus the row's
    position inside its partition. A file read as one partition (a local, uncompressed file of
    up to one split) is numbered by that position alone and its lines are counted from its bytes,
    as Spark splits them: no Spark job. The caller checks (`NumberedLines.check`) after its last
    read that the file is still the one counted. Otherwise counting the rows of each partition
    and ordering the partitions by the byte offset of their file split gives every line its
    exact position (two small jobs).
    """
    countable = local_file is not None and not local_file.lower().endswith(_COMPRESSED_SUFFIXES)
    # Before Spark lists the file: a change after this, even before Spark plans its splits, is caught.
    identity = _identity(local_file) if countable else None
    text = spark.read.text(path)
    if countable and _read_whole(spark, text, identity[2]):
        total = count_lines(local_file)
        frame = text.select(
            F.col("value").alias(LINE_COLUMN),
            (F.monotonically_increasing_id() + F.lit(1)).alias(LINE_NO_COLUMN),
            F.lit(total).cast(T.LongType()).alias(TOTAL_COLUMN),
        )
        return NumberedLines(frame, local_file, total, identity)
    return NumberedLines(_numbered_by_partition(text))


def _read_whole(spark: SparkSession, text: DataFrame, size: int) -> bool:
    """Whether Spark reads `text`'s file as one partition, so each row's position in it is its
    line number. A classic session asks the planned scan (no job). A Connect session has no
    RDDs: a file larger than one split is never whole, and a smaller one is whole exactly when
    no row lands past the first partition (one small job), which is all the numbering needs."""
    if not is_connect(spark):
        return text.rdd.getNumPartitions() <= 1
    if size > _max_split_bytes(spark):
        return False
    last = text.select(F.spark_partition_id().alias("p")).agg(F.max("p")).first()[0]
    return last is None or last == 0


def _max_split_bytes(spark: SparkSession) -> int:
    value = str(spark.conf.get("spark.sql.files.maxPartitionBytes", "134217728")).strip().lower()
    units = {"b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30}
    for suffix in sorted(units, key=len, reverse=True):
        if value.endswith(suffix):
            return int(value[: -len(suffix)]) * units[suffix]
    return int(value)


def _numbered_by_partition(text: DataFrame) -> DataFrame:
    raw = text.select(
        F.col("value").alias(LINE_COLUMN),
        F.monotonically_increasing_id().alias("_nj_mid"),
        F.spark_partition_id().alias("_nj_pid"),
        F.input_file_block_start().alias("_nj_block"),
    )
    per_partition = raw.groupBy("_nj_pid").agg(
        F.count(F.lit(1)).alias("_nj_rows"),
        F.min("_nj_mid").alias("_nj_first_mid"),
        F.min("_nj_block").alias("_nj_block_start"),
    )
    # A handful of rows (one per partition): a single window partition is fine.
    everything = Window.partitionBy(F.lit(0))
    ordered = everything.orderBy("_nj_block_start", "_nj_pid")
    offsets = per_partition.select(
        "_nj_pid",
        "_nj_first_mid",
        (F.sum("_nj_rows").over(ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow))
         - F.col("_nj_rows")).alias("_nj_before"),
        F.sum("_nj_rows").over(everything).alias(TOTAL_COLUMN),
    )
    return raw.join(F.broadcast(offsets), "_nj_pid").select(
        F.col(LINE_COLUMN),
        (F.col("_nj_before") + (F.col("_nj_mid") - F.col("_nj_first_mid")) + F.lit(1)).alias(LINE_NO_COLUMN),
        F.col(TOTAL_COLUMN),
    )
