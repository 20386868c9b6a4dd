"""The bench's copy job: every feed read once as text, its CSV columns split, written once as
Parquet. `copy_job.py <result-file> <out-dir> <feed-path>...`; the header names the columns, the trailer stays a row."""
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

if __name__ == "__main__":
    result, out, feeds = sys.argv[1], sys.argv[2], sys.argv[3:]
    remote = os.environ.get("NIGHTJAR_SPARK_REMOTE")  # on the warm driver: a session of its server
    spark = (SparkSession.builder.remote(remote) if remote else SparkSession.builder.appName("copy")).getOrCreate()
    for feed in feeds:
        with open(feed, encoding="utf-8") as fh:
            names = fh.readline().rstrip("\r\n").split(",")
        parts = F.split(F.col("value"), ",")
        columns = [F.get(parts, i).alias(n) for i, n in enumerate(names)]  # the trailer has fewer fields
        name = os.path.splitext(os.path.basename(feed))[0]
        spark.read.text(feed).select(*columns).write.mode("overwrite").parquet(os.path.join(out, name))
    with open(result, "w", encoding="utf-8") as fh:
        fh.write("{}\n")
    spark.stop()
