"""The contract's rules, each pinned by crafted lines (docs/spark-jobs.md). The fixtures under
test/fixtures/contract are shared with test/unit/feeds/contract-rules.test.ts, so the ingest's
screen and trailer check are held to the same expectations."""
from __future__ import annotations

import json
from decimal import Decimal

from pyspark.sql import functions as F
from pyspark.sql import types as T

from nightjar_spark.validation import control_value

from .conftest import REPO

CONTRACT = REPO / "test" / "fixtures" / "contract"


def test_control_values_are_read_as_the_trailer_reads_them(spark):
    cases = json.loads((CONTRACT / "control-values.json").read_text())["cases"]
    frame = spark.createDataFrame([(i, c["line"]) for i, c in enumerate(cases)], "i int, line string")
    exprs = {
        (c["index"], c["scale"]): control_value(F.col("line"), c["index"], c["scale"]).cast(T.StringType())
        for c in cases
    }
    keys = sorted(exprs)
    rows = frame.select("i", *[exprs[k].alias(f"v{n}") for n, k in enumerate(keys)]).collect()
    got = {r["i"]: r for r in rows}
    for i, case in enumerate(cases):
        value = got[i][f"v{keys.index((case['index'], case['scale']))}"]
        expected = case["value"]
        assert (None if value is None else Decimal(value)) == (None if expected is None else Decimal(expected)), case


def lines_frame(spark, lines: list[str]):
    """A file's numbered lines as `numbered_lines` gives them: header 1, data 2.., trailer last."""
    from nightjar_spark.lines import LINE_COLUMN, LINE_NO_COLUMN, TOTAL_COLUMN

    total = len(lines) + 2
    rows = [(line, no, total) for no, line in enumerate(lines, start=2)]
    return spark.createDataFrame(rows, f"{LINE_COLUMN} string, {LINE_NO_COLUMN} long, {TOTAL_COLUMN} long")


def classify(spark, catalog, feed_name: str, lines: list[str], business_date: str) -> list:
    from nightjar_spark import catalog as cat
    from nightjar_spark.lines import LINE_NO_COLUMN
    from nightjar_spark.normalize import REASON, FeedNormalizer

    spec = {"businessDate": business_date, "catalog": catalog, "reportingCurrency": "EUR"}
    normalizer = FeedNormalizer(spark, spec, cat.feed_by_name(catalog, feed_name))
    rows = normalizer.classify_rows(lines_frame(spark, lines)).select(LINE_NO_COLUMN, REASON).collect()
    return [r[REASON] for r in sorted(rows, key=lambda r: r[0])]


def test_rules_1_to_3_on_crafted_lines(spark, catalog):
    doc = json.loads((CONTRACT / "rows.json").read_text())
    by_feed: dict[str, list[dict]] = {}
    for case in doc["cases"]:
        by_feed.setdefault(case["feed"], []).append(case)
    for feed, cases in by_feed.items():
        reasons = classify(spark, catalog, feed, [c["line"] for c in cases], doc["businessDate"])
        for case, reason in zip(cases, reasons):
            assert reason == case["reason"], case
