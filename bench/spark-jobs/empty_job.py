"""The bench's empty job: session start, one tiny action, stop (Spark's own floor).
`empty_job.py <app-name> <result-file>`: the result file is written before the stop, as the jobs do."""
import os
import sys

from pyspark.sql import SparkSession

if __name__ == "__main__":
    name, result = sys.argv[1], sys.argv[2]
    remote = os.environ.get("NIGHTJAR_SPARK_REMOTE")  # on the warm driver: a session of its server
    spark = (SparkSession.builder.remote(remote) if remote else SparkSession.builder.appName(name)).getOrCreate()
    spark.range(1).count()
    with open(result, "w", encoding="utf-8") as fh:
        fh.write("{}\n")
    spark.stop()
