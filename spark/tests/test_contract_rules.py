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


def test_rules_4_to_6_duplicates_references_and_fx_rates(spark, catalog):
    """Rule 4 runs on the lines that passed rules 1-3 (a rejected line holds no key), and before
    rules 5 and 6: the first valid line holds its key even when a later rule rejects it."""
    from nightjar_spark import catalog as cat
    from nightjar_spark.lines import LINE_NO_COLUMN
    from nightjar_spark.normalize import REASON, FeedNormalizer, fx_rates_table

    def line(txn, account="A00000001", currency="EUR"):
        return f"{txn},{account},2026-11-20T10:00:00Z,2026-11-20,DEBIT,5.00,{currency},POS,,"

    lines = [
        line("T000000001", currency="ABC"),  # 2: rule 2; does not hold the key
        line("T000000001"),  # 3: the first valid line: accepted
        line("T000000001"),  # 4: duplicate of line 3
        line("T000000002", account="A00000099"),  # 5: holds the key, then fails rule 5
        line("T000000002"),  # 6: still a duplicate: the key was taken by line 5
        line("T000000003", currency="SEK"),  # 7: a known currency without a rate
        line("T000000004", currency="EUR"),  # 8: the reporting currency needs no rate line
        line("T000000005", currency="USD"),  # 9: converted with the feed's rate
    ]
    spec = {"businessDate": "2026-11-20", "catalog": catalog, "reportingCurrency": "EUR"}
    normalizer = FeedNormalizer(spark, spec, cat.feed_by_name(catalog, "transactions"))
    rows = normalizer.classify_rows(lines_frame(spark, lines))
    rows = normalizer.reject_duplicates(rows)
    accounts = spark.createDataFrame([("A00000001",)], "account_id string")
    rows = normalizer.reject_unknown_references(rows, {"accounts": accounts})
    fx = spark.createDataFrame([("USD", Decimal("0.92"))], "currency string, rate decimal(18,8)")
    rows = normalizer.convert_currency(rows, fx_rates_table(spark, fx, "EUR"))
    got = {r[LINE_NO_COLUMN]: (r[REASON], r["amount_rpt"]) for r in rows.collect()}
    assert got == {
        2: ("UNKNOWN_CURRENCY:currency", None),
        3: (None, Decimal("5.00")),
        4: ("DUPLICATE_KEY:txn_id", None),
        5: ("UNKNOWN_REFERENCE:account_id", None),
        6: ("DUPLICATE_KEY:txn_id", None),
        7: ("NO_FX_RATE:currency", None),
        8: (None, Decimal("5.00")),
        9: (None, Decimal("4.60")),
    }


def test_which_feeds_need_an_fx_rate(catalog):
    from nightjar_spark import catalog as cat

    assert [f["name"] for f in catalog if cat.is_monetary(f)] == ["accounts", "transactions", "payments"]
