"""A text file as rows of physical lines with exact 1-based line numbers (DataFrame API only)."""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

LINE_COLUMN = "_nj_line"
LINE_NO_COLUMN = "_nj_line_no"
TOTAL_COLUMN = "_nj_total"


def numbered_lines(spark: SparkSession, path: str) -> DataFrame:
    """Rows `(_nj_line, _nj_line_no, _nj_total)`: every physical line of `path`, its number, and
    the file's line count.

    `spark.read.text` splits on LF, CRLF and CR, so a line never carries its terminator.
    `monotonically_increasing_id` is the partition index in the upper bits plus the row's
    position inside its partition; counting the rows of each partition and ordering the
    partitions by the byte offset of their file split gives every line its exact position.
    """
    raw = spark.read.text(path).select(
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
