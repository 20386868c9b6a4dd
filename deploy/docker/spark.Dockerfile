# syntax=docker/dockerfile:1
# The Spark job image of the Kubernetes platform: the official Apache Spark image with Python, plus
# Nightjar's PySpark jobs at /opt/nightjar/spark (NIGHTJAR_K8S_JOBS_DIR). SparkApplications reference
# local:///opt/nightjar/spark/jobs/<job>.py; the jobs import nightjar_spark from that directory.
# spark/requirements.txt lists only pyspark (this image's own Spark) and pytest (tests), so no
# Python packages are added.
#
#   docker build -f deploy/docker/spark.Dockerfile -t registry.example/nightjar-spark:0.1.0 .

FROM apache/spark:4.0.1-scala2.13-java17-python3-ubuntu
ENV PYTHONPATH=/opt/nightjar/spark \
    PYTHONDONTWRITEBYTECODE=1
# Owned by root and read-only for the spark user.
COPY spark/jobs /opt/nightjar/spark/jobs
COPY spark/nightjar_spark /opt/nightjar/spark/nightjar_spark
# The image's spark user; the operator's pod template runs the driver and executors as it too.
USER 185:185
WORKDIR /opt/spark/work-dir
HEALTHCHECK NONE
