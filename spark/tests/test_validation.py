"""Column-kind validation expressions, one small DataFrame per kind."""
from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from nightjar_spark.validation import (
    DATE_FORMAT,
    TIMESTAMP_PARSE_FORMAT,
    column_reason,
    decimal_regex,
    field_count,
    malformed_reason,
    parse_date,
    parse_timestamp,
    quote_count,
    typed_value,
)

KNOWN = ["EUR", "USD"]


def reasons(spark, col, values):
    df = spark.createDataFrame([(v,) for v in values], "v string")
    return [r[0] for r in df.select(column_reason(col, F.col("v"), KNOWN)).collect()]


def test_string_max_length_and_pattern(spark):
    col = {"name": "id", "type": {"kind": "string", "maxLength": 9, "pattern": "^C[0-9]{7,12}$"}}
    assert reasons(spark, col, ["C0000001", "C00000011", "C000000111", "c0000001", "", None]) == [
        None,
        None,
        "INVALID_FORMAT:id",  # matches the pattern but is longer than maxLength
        "INVALID_FORMAT:id",
        "MISSING_VALUE:id",
        "MISSING_VALUE:id",
    ]


def test_nullable_empty_passes(spark):
    col = {"name": "email", "type": {"kind": "string", "maxLength": 3}, "nullable": True}
    assert reasons(spark, col, ["", None, "abcd"]) == [None, None, "INVALID_FORMAT:email"]


def test_enum(spark):
    col = {"name": "d", "type": {"kind": "enum", "values": ["DEBIT", "CREDIT"]}}
    assert reasons(spark, col, ["DEBIT", "debit", "CREDIT "]) == [None, "INVALID_FORMAT:d", "INVALID_FORMAT:d"]


def test_date_is_a_real_calendar_date(spark):
    col = {"name": "d", "type": {"kind": "date"}}
    values = ["2024-02-29", "2026-02-29", "2026-02-30", "2026-13-01", "2026-1-01", "20260101", "2026-01-01T00:00:00Z"]
    assert reasons(spark, col, values) == [None] + ["INVALID_FORMAT:d"] * 6


def test_timestamp_format(spark):
    col = {"name": "t", "type": {"kind": "timestamp"}}
    values = [
        "2026-11-20T23:59:59Z",
        "2026-11-20T24:00:00Z",
        "2026-11-20T12:00:60Z",
        "2026-11-20 12:00:00Z",
        "2026-11-20T12:00:00",
        "2026-11-20T12:00:00.000Z",
        "2026-11-20T12:00:00+01:00",
        "2026-02-30T12:00:00Z",
    ]
    assert reasons(spark, col, values) == [None] + ["INVALID_FORMAT:t"] * 7


def test_timestamp_typed_value_is_utc(spark):
    col = {"name": "t", "type": {"kind": "timestamp"}}
    df = spark.createDataFrame([("2026-11-20T23:30:00Z",)], "v string")
    row = df.select(F.date_format(typed_value(col, F.col("v")), "yyyy-MM-dd HH:mm:ss").alias("t")).first()
    assert row.t == "2026-11-20 23:30:00"


def test_decimal_scale_precision_and_min(spark):
    col = {"name": "amount", "type": {"kind": "decimal", "precision": 18, "scale": 2, "min": 0}}
    values = ["0", "0.00", "12.5", "12.345", "1234567890123456.78", "12345678901234567.00", "-0.01", "1e3", "+1.00", ".50", "1.", " 1.00"]
    assert reasons(spark, col, values) == [
        None,
        None,
        None,
        "INVALID_FORMAT:amount",
        None,
        "INVALID_FORMAT:amount",
        "OUT_OF_RANGE:amount",
        "INVALID_FORMAT:amount",
        "INVALID_FORMAT:amount",
        "INVALID_FORMAT:amount",
        "INVALID_FORMAT:amount",
        "INVALID_FORMAT:amount",
    ]


def test_decimal_without_min_accepts_negative(spark):
    col = {"name": "b", "type": {"kind": "decimal", "precision": 18, "scale": 2}}
    assert reasons(spark, col, ["-20.00", "-0.5"]) == [None, None]


def test_rate_decimal_scale_8(spark):
    col = {"name": "rate", "type": {"kind": "decimal", "precision": 18, "scale": 8, "min": 0}}
    assert reasons(spark, col, ["0.92000000", "0.006123456", "0"]) == [None, "INVALID_FORMAT:rate", None]


def test_currency(spark):
    col = {"name": "currency", "type": {"kind": "currency"}}
    assert reasons(spark, col, ["EUR", "eur", "XXX", ""]) == [
        None,
        "UNKNOWN_CURRENCY:currency",
        "UNKNOWN_CURRENCY:currency",
        "MISSING_VALUE:currency",
    ]


def test_first_rule_of_a_column_wins(spark):
    # Empty beats format; format beats range.
    col = {"name": "amount", "type": {"kind": "decimal", "precision": 18, "scale": 2, "min": 0}}
    assert reasons(spark, col, ["", "-1.001"]) == ["MISSING_VALUE:amount", "INVALID_FORMAT:amount"]


@pytest.mark.parametrize(
    "precision,scale,ok,bad",
    [(18, 2, ["1", "1.2", "-1.23"], ["1.234", "1.", ".1"]), (5, 0, ["12345", "-1"], ["123456", "1.0"])],
)
def test_decimal_regex(precision, scale, ok, bad):
    import re

    pattern = re.compile(decimal_regex(precision, scale))
    assert all(pattern.match(v) for v in ok)
    assert not any(pattern.match(v) for v in bad)


def test_quote_and_field_counts(spark):
    lines = ['a,b,c', '"a,b",c', '"a""b",c,d', '"a,b,c', 'a,,', '', '"x"",y",z']
    df = spark.createDataFrame([(v,) for v in lines], "v string")
    rows = df.select(quote_count(F.col("v")), field_count(F.col("v")), malformed_reason(F.col("v"), 3)).collect()
    assert [(r[0], r[1]) for r in rows] == [(0, 3), (2, 2), (4, 3), (1, 3), (0, 3), (0, 1), (4, 2)]
    assert [r[2] for r in rows] == [
        None,
        "MALFORMED_RECORD:field_count",
        None,
        "MALFORMED_RECORD:quoting",
        None,
        "MALFORMED_RECORD:field_count",
        "MALFORMED_RECORD:field_count",
    ]


def test_counts_are_of_characters_not_bytes_of_other_characters(spark):
    # Multi-byte characters beside, inside and between quoted sections: the counts are taken over
    # the bytes and must be the characters' (the rule: commas outside quoted sections, plus one).
    import re

    lines = ['é,€,𝄞', '"é,€",ü', '€"€,"€,€', 'ñ,,', '"a""é",ü,ß', '日本,"語,"', '€', '"€']
    df = spark.createDataFrame([(v,) for v in lines], "v string")
    rows = df.select(quote_count(F.col("v")), field_count(F.col("v"))).collect()
    assert [r[0] for r in rows] == [v.count('"') for v in lines]
    assert [r[1] for r in rows] == [re.sub('"[^"]*"', "", v).count(",") + 1 for v in lines]


def _shaped_dates(seed: int, n: int) -> list[str]:
    """Strings of the contract's date shape, many of them not dates (month 13, day 31 of a 30-day
    month, 29 February of common years, years 0000, 1582 and 9999)."""
    import random

    rnd = random.Random(seed)
    years = [0, 1, 4, 100, 400, 1582, 1900, 2000, 2024, 2026, 9999]
    out = []
    for _ in range(n):
        year = rnd.choice(years) if rnd.random() < 0.5 else rnd.randint(0, 9999)
        out.append(f"{year:04d}-{rnd.randint(0, 13):02d}-{rnd.randint(0, 32):02d}")
    return out


def test_the_cast_parser_reads_every_shaped_date_as_the_pattern_does(spark):
    values = _shaped_dates(7, 3000)
    df = spark.createDataFrame([(v,) for v in values], "v string")
    differ = df.filter(~parse_date(F.col("v")).eqNullSafe(F.try_to_date(F.col("v"), DATE_FORMAT)))
    assert differ.count() == 0
    assert 0 < df.filter(parse_date(F.col("v")).isNull()).count() < len(values)


def test_the_cast_parser_reads_every_shaped_timestamp_as_the_pattern_does(spark):
    import random

    rnd = random.Random(11)
    values = [
        f"{d}T{rnd.randint(0, 25):02d}:{rnd.randint(0, 61):02d}:{rnd.randint(0, 61):02d}Z"
        for d in _shaped_dates(13, 3000)
    ]
    df = spark.createDataFrame([(v,) for v in values], "v string")
    pattern = F.try_to_timestamp(F.col("v"), F.lit(TIMESTAMP_PARSE_FORMAT))
    assert df.filter(~parse_timestamp(F.col("v")).eqNullSafe(pattern)).count() == 0
    assert 0 < df.filter(parse_timestamp(F.col("v")).isNull()).count() < len(values)


def test_every_reason_a_rule_gives_has_its_code_in_reason_codes():
    # normalize counts rejects per code in REASON_CODES; a code missing there would fail the job.
    import re
    from pathlib import Path

    from nightjar_spark.validation import REASON_CODES

    package = Path(__file__).resolve().parents[1] / "nightjar_spark"
    given = set()
    for source in package.glob("*.py"):
        given.update(re.findall(r'F\.lit\(f?"([A-Z_]+):', source.read_text(encoding="utf-8")))
    assert given, "no reason literals found: the pattern no longer matches the rules' code"
    assert given <= set(REASON_CODES), sorted(given - set(REASON_CODES))
