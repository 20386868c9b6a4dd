"""One local SparkSession for the whole test run, plus the fixture catalog and feeds."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

SPARK_DIR = Path(__file__).resolve().parents[1]
REPO = SPARK_DIR.parent
FIXTURES = REPO / "test" / "fixtures" / "spark"
BUSINESS_DATE = "2026-11-20"
FEEDS = ["customers", "accounts", "transactions", "payments", "fx_rates"]
THRESHOLDS = {"largeValueRpt": 10000, "structuringThresholdRpt": 10000, "structuringBandLow": 0.8, "structuringMinCount": 3}

if str(SPARK_DIR) not in sys.path:
    sys.path.insert(0, str(SPARK_DIR))
# The workers must run the same interpreter as the tests.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


# The jobs run on a classic session (spark-submit) or as sessions of the warm driver, a Spark
# Connect server. NIGHTJAR_TEST_SPARK_REMOTE=start runs every test through a server started here
# (`sc://host:port`: through that one).
REMOTE = os.environ.get("NIGHTJAR_TEST_SPARK_REMOTE")
TEST_CONF = {"spark.sql.shuffle.partitions": "4", "spark.sql.session.timeZone": "UTC"}


def _connect_server(tmp: Path):
    """A Spark Connect server of this venv's pyspark on a free loopback port: (process, url)."""
    import socket
    import subprocess
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    submit = Path(sys.executable).parent / "spark-submit"
    env = {**os.environ, "PATH": f"{submit.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = open(tmp / "connect-server.log", "wb")  # noqa: SIM115 - open while the server runs
    proc = subprocess.Popen(
        [str(submit), "--class", "org.apache.spark.sql.connect.service.SparkConnectServer", "--master", "local[2]",
         "--driver-memory", "1g", "--conf", "spark.ui.enabled=false", "--conf", "spark.default.parallelism=2",
         "--conf", "spark.connect.grpc.binding.address=127.0.0.1", "--conf", f"spark.connect.grpc.binding.port={port}"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"sc://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"the Spark Connect server did not start; see {tmp / 'connect-server.log'}")


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    if REMOTE:
        server, url = _connect_server(tmp_path_factory.mktemp("connect")) if REMOTE == "start" else (None, REMOTE)
        session = SparkSession.builder.remote(url).getOrCreate()
        for key, value in TEST_CONF.items():
            session.conf.set(key, value)
        yield session
        session.stop()
        if server is not None:
            os.killpg(server.pid, 15)
            server.wait(30)
        return
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("nightjar-spark-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
    )
    for key, value in TEST_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def catalog():
    return json.loads((FIXTURES / "catalog.json").read_text())


@pytest.fixture(scope="session")
def spark_reports():
    return json.loads((FIXTURES / "spark-reports.json").read_text())


def uri(path: Path) -> str:
    return path.resolve().as_uri()


def _spec(job: str, attempt: str, catalog, out: Path, inputs: dict[str, str]) -> dict:
    """The fields every job spec carries (docs/spark-jobs.md)."""
    return {
        "job": job,
        "attemptId": attempt,
        "businessDate": BUSINESS_DATE,
        "reportingCurrency": "EUR",
        "outputUri": uri(out),
        "resultUri": uri(out) + "/_result.json",
        "catalog": catalog,
        "inputs": inputs,
    }


def normalize_spec(catalog, raw: dict[str, Path], out: Path, attempt: str = "test-normalize-a1") -> dict:
    return _spec("normalize", attempt, catalog, out, {name: uri(path) for name, path in raw.items()})


def transform_spec(catalog, reports, curated: dict[str, str], out: Path, attempt: str = "test-transform-a1") -> dict:
    return {
        **_spec("transform", attempt, catalog, out, curated),
        "reports": reports,
        "thresholds": THRESHOLDS,
    }


def copy_tiny_feeds(target: Path, crlf: tuple[str, ...] = ("customers",)) -> dict[str, Path]:
    """The hand-written feeds under test/fixtures/spark/tiny; the `crlf` ones get CRLF line ends."""
    target.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in FEEDS:
        data = (FIXTURES / "tiny" / f"{name}.csv").read_bytes()
        if name in crlf:
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        path = target / f"{name}.csv"
        path.write_bytes(data)
        out[name] = path
    return out


@pytest.fixture(scope="session")
def normalized(spark, catalog, tmp_path_factory):
    """The tiny feeds normalized once: (result, output dir, raw paths)."""
    from nightjar_spark.normalize import run_normalize

    base = tmp_path_factory.mktemp("tiny")
    raw = copy_tiny_feeds(base / "raw")
    out = base / "curated"
    result = run_normalize(spark, normalize_spec(catalog, raw, out))
    return result, out, raw


@pytest.fixture(scope="session")
def transformed(spark, catalog, spark_reports, normalized, tmp_path_factory):
    """Reports of the tiny dataset: (result, output dir)."""
    from nightjar_spark.transform import run_transform

    result, _, _ = normalized
    curated = {f["feed"]: f["curatedUri"] for f in result["feeds"]}
    out = tmp_path_factory.mktemp("reports")
    return run_transform(spark, transform_spec(catalog, spark_reports, curated, out)), out


def read_csv_dataset(directory: Path) -> str:
    """The concatenated text of a CSV dataset's part files (in name order)."""
    parts = sorted(p for p in directory.iterdir() if p.name.startswith("part-") and p.name.endswith(".csv"))
    assert parts, f"no part files in {directory}"
    return "".join(p.read_text(encoding="utf-8") for p in parts)


def csv_rows(directory: Path) -> list[dict[str, str]]:
    import csv
    import io

    text = read_csv_dataset(directory)
    return list(csv.DictReader(io.StringIO(text)))


def partitions_read(spark, path: Path) -> int:
    """How many partitions Spark reads `path` as text in (those holding rows), on a classic or a
    Connect session alike."""
    from pyspark.sql import functions as F

    return spark.read.text(path.resolve().as_uri()).select(F.spark_partition_id()).distinct().count()


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
