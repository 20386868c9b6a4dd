"""Exact 1-based line numbers, also across many partitions, and positional header/trailer."""
from __future__ import annotations

import pytest

from nightjar_spark import lines as lines_module
from nightjar_spark.lines import (
    LINE_COLUMN,
    LINE_NO_COLUMN,
    TOTAL_COLUMN,
    LineCountMismatch,
    WHOLE_FILE_BYTES,
    count_lines,
    numbered_lines,
    read_small_files_whole,
)
from .conftest import partitions_read


def test_line_numbers_are_exact_across_partitions(spark, tmp_path):
    path = tmp_path / "many.csv"
    lines = [f"line {i}," + "x" * (i % 37) for i in range(1, 801)]
    path.write_text("\n".join(lines) + "\n")
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "2048")
    try:
        assert partitions_read(spark, path) >= 4
        numbered = numbered_lines(spark, path.as_uri(), str(path))
        assert numbered.counted is None  # several splits: numbered by partition, not counted
        rows = numbered.frame.select(LINE_COLUMN, LINE_NO_COLUMN, TOTAL_COLUMN).collect()
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)
    assert len(rows) == 800
    for row in rows:
        assert row[0] == lines[row[1] - 1]
        assert row[2] == 800
    assert sorted(r[1] for r in rows) == list(range(1, 801))


def test_crlf_lines_lose_their_terminator(spark, tmp_path):
    path = tmp_path / "crlf.csv"
    path.write_bytes(b"h1,h2\r\na,b\r\n\"c\",d\r\nTRL,2,0\r\n")
    rows = numbered_lines(spark, str(path)).frame.orderBy(LINE_NO_COLUMN).collect()
    assert [(r[LINE_NO_COLUMN], r[LINE_COLUMN]) for r in rows] == [(1, "h1,h2"), (2, "a,b"), (3, '"c",d'), (4, "TRL,2,0")]


def test_empty_file(spark, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    numbered = numbered_lines(spark, str(path), str(path))
    assert numbered.frame.count() == 0
    numbered.check()


def test_trailer_found_by_position_not_content(spark, catalog, tmp_path):
    """A data line that looks like a trailer is still data; the real last line is the trailer."""
    from nightjar_spark.normalize import run_normalize

    from .conftest import normalize_spec

    # directories with spaces: URIs are percent-encoded, Spark must get decoded paths
    tmp_path = tmp_path / "with space"
    tmp_path.mkdir()
    path = tmp_path / "fx_rates.csv"
    path.write_text(
        "currency,rate_date,rate,source\n"
        "USD,2026-11-20,0.92000000,ECB\n"
        "TRL,1,0.92000000\n"  # not last: a data line (rejected: unknown currency)
        "GBP,2026-11-20,1.17000000,ECB\n"
        "anything at all\n"  # last line: the trailer, whatever it says
    )
    out = tmp_path / "out"
    result = run_normalize(spark, normalize_spec(catalog, {"fx_rates": path}, out))
    (feed,) = result["feeds"]
    assert (feed["rowsIn"], feed["rowsAccepted"], feed["rowsRejected"]) == (3, 2, 1)
    assert feed["curatedUri"].endswith("/with%20space/out/fx_rates")
    rejects = spark.read.option("header", True).csv(str(out / "rejects" / "fx_rates")).collect()
    assert [(r.line_no, r.reason) for r in rejects] == [("3", "MALFORMED_RECORD:field_count")]
    accepted = spark.read.parquet(str(out / "fx_rates")).orderBy("line_no").select("currency", "line_no").collect()
    assert [(r.currency, r.line_no) for r in accepted] == [("USD", 2), ("GBP", 4)]


def test_header_and_trailer_only(spark, catalog, tmp_path):
    from nightjar_spark.normalize import run_normalize

    from .conftest import normalize_spec

    path = tmp_path / "payments.csv"
    header = ",".join(c["name"] for c in next(f for f in catalog if f["name"] == "payments")["columns"])
    path.write_text(header + "\nTRL,0,0.00\n")
    out = tmp_path / "out"
    result = run_normalize(spark, normalize_spec(catalog, {"payments": path}, out))
    (feed,) = result["feeds"]
    assert (feed["rowsIn"], feed["rowsAccepted"], feed["rowsRejected"], feed["rejectReasons"]) == (0, 0, 0, {})
    assert spark.read.parquet(str(out / "payments")).count() == 0
    parts = [p for p in (out / "rejects" / "payments").iterdir() if p.name.startswith("part-")]
    assert "".join(p.read_text() for p in parts) == "line_no,reason,record\n"


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", 0),
        (b"a", 1),
        (b"a\n", 1),
        (b"a\nb", 2),
        (b"a\r\nb\r\n", 2),
        (b"a\rb\rc", 3),
        (b"a\n\nb\n", 3),
        (b"a\r\n\r\n", 2),
        (b"\n", 1),
        (b"\r\n\r", 2),
    ],
)
def test_count_lines_splits_as_spark_does(tmp_path, content, expected):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    assert count_lines(str(path)) == expected


def test_count_lines_across_chunk_boundaries(tmp_path, monkeypatch):
    """Every split of CR, LF and CRLF across chunk boundaries, against bytes.splitlines (the
    same three terminators, no empty line after a final terminator)."""
    import random

    monkeypatch.setattr(lines_module, "_CHUNK", 3)
    rnd = random.Random(7)
    path = tmp_path / "f.csv"
    for _ in range(300):
        content = bytes(rnd.choice(b"a\r\n") for _ in range(rnd.randrange(0, 14)))
        path.write_bytes(content)
        assert count_lines(str(path)) == len(content.splitlines()), content


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_one_split_file_is_counted_and_numbered_like_many_splits(spark, tmp_path, ending):
    path = tmp_path / "one.csv"
    lines = [f"row {i}," + "y" * (i % 11) for i in range(1, 301)]
    path.write_bytes((ending.join(lines) + ending).encode())
    counted = numbered_lines(spark, path.as_uri(), str(path))
    assert counted.counted == 300
    rows = counted.frame.select(LINE_COLUMN, LINE_NO_COLUMN, TOTAL_COLUMN).collect()
    counted.check()
    assert sorted((r[1], r[0], r[2]) for r in rows) == [(i, line, 300) for i, line in enumerate(lines, start=1)]
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "512")
    try:
        by_partition = numbered_lines(spark, path.as_uri(), str(path))
        assert by_partition.counted is None
        other = by_partition.frame.select(LINE_COLUMN, LINE_NO_COLUMN, TOTAL_COLUMN).collect()
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)
    assert sorted(tuple(r) for r in other) == sorted(tuple(r) for r in rows)


def test_a_file_that_changed_after_its_count_fails_the_check(spark, tmp_path):
    path = tmp_path / "changing.csv"
    path.write_text("h\na\nb\nT\n")
    numbered = numbered_lines(spark, str(path), str(path))
    numbered.frame.collect()
    numbered.check()  # unchanged
    path.write_text("h\na\nb\nc\nT\n")  # a line appended after the count
    with pytest.raises(LineCountMismatch, match="changed while it was read"):
        numbered.check()


def test_a_compressed_file_is_numbered_by_spark(spark, tmp_path):
    import gzip

    path = tmp_path / "feed.csv.gz"
    path.write_bytes(gzip.compress(b"h\na\nT\n"))
    numbered = numbered_lines(spark, str(path), str(path))
    assert numbered.counted is None
    assert sorted(tuple(r) for r in numbered.frame.collect()) == [("T", 3, 3), ("a", 2, 3), ("h", 1, 3)]


def test_feed_files_up_to_16_mib_are_read_whole_and_larger_ones_split(spark, tmp_path):
    """At Spark's default open cost a 6 MB file is two splits (numbered by two jobs, its rejects
    joined again); normalize's setting reads it whole, counted from its bytes, and still splits a
    20 MB file across the cores."""
    row = "x" * 99 + "\n"
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    small.write_text(row * 60_000)
    big.write_text(row * 200_000)
    assert small.stat().st_size < WHOLE_FILE_BYTES < big.stat().st_size
    previous = spark.conf.get("spark.sql.files.openCostInBytes")
    try:
        spark.conf.set("spark.sql.files.openCostInBytes", str(4 << 20))  # Spark's default
        assert partitions_read(spark, small) == 2
        read_small_files_whole(spark)
        assert partitions_read(spark, small) == 1
        assert numbered_lines(spark, small.as_uri(), str(small)).counted == 60_000
        assert partitions_read(spark, big) == 2
        assert numbered_lines(spark, big.as_uri(), str(big)).counted is None
    finally:
        spark.conf.set("spark.sql.files.openCostInBytes", previous)
