"""One conversion, one rounding: the money helpers against Python's exact decimal arithmetic."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from nightjar_spark.money import by_minor_unit, converted, minor_units

CASES = [
    # amount, rate(C), rate(A), decimals
    # a 1.01 USD transaction on a HUF account: via EUR rounded first it would be 0.93 / 0.0025 = 372.00
    ("1.01", "0.92000000", "0.00250000", 2, "371.68"),
    # an exact half rounds away from zero, on both sides
    ("0.01", "1.50000000", "1.00000000", 2, "0.02"),
    ("-0.01", "1.50000000", "1.00000000", 2, "-0.02"),
    ("-1.01", "0.92000000", "0.00250000", 2, "-371.68"),
    # the exact quotient is 0.00499999995: Spark's 6-decimal division alone would give 0.01
    ("1.00", "0.00500000", "1.00000001", 2, "0.00"),
    ("-1.00", "0.00500000", "1.00000001", 2, "-0.00"),
    # just above a half unit after 6 decimals
    ("1.00", "0.00500001", "1.00000001", 2, "0.01"),
    # JPY has no minor unit: 100.00 USD at 0.92 EUR on a JPY account at 0.00612345
    ("100.00", "0.92000000", "0.00612345", 0, "15024"),
    ("0.00", "0.92000000", "0.00612345", 0, "0"),
    # large values stay exact
    ("9999999999999999.99", "1.17000000", "0.92000000", 2, "12717391304347826.07"),
]


def exact(amount: str, from_rate: str, to_rate: str, scale: int) -> Decimal:
    value = Decimal(amount) * Decimal(from_rate) / Decimal(to_rate)
    return value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("amount,from_rate,to_rate,scale,expected", CASES)
def test_cases_are_the_exact_half_up_rounding(amount, from_rate, to_rate, scale, expected):
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 60
        assert exact(amount, from_rate, to_rate, scale) == Decimal(expected)


def test_converted_rounds_once_half_up_away_from_zero(spark):
    schema = "amount decimal(18,2), from_rate decimal(18,8), to_rate decimal(18,8), scale int, expected string"
    frame = spark.createDataFrame([(Decimal(a), Decimal(f), Decimal(t), s, e) for a, f, t, s, e in CASES], schema)
    got = frame.select(
        F.when(F.col("scale") == 0, converted(F.col("amount"), F.col("from_rate"), F.col("to_rate"), 0))
        .otherwise(converted(F.col("amount"), F.col("from_rate"), F.col("to_rate"), 2))
        .alias("value"),
        "scale",
        "expected",
    ).collect()
    for row in got:
        assert row["value"] == Decimal(row["expected"]), row


def test_the_minor_unit_follows_the_currency(spark):
    frame = spark.createDataFrame(
        [("JPY", Decimal("10.50")), ("EUR", Decimal("10.505")), ("HUF", Decimal("0.125"))],
        "currency string, value decimal(20,3)",
    )
    units = minor_units({})
    assert units == {"JPY": 0}
    out = frame.select(
        "currency", by_minor_unit(F.col("currency"), units, lambda s: F.round(F.col("value"), s)).cast(T.StringType()).alias("v")
    ).collect()
    assert {r["currency"]: Decimal(r["v"]) for r in out} == {"JPY": Decimal("11"), "EUR": Decimal("10.51"), "HUF": Decimal("0.13")}


def test_a_spec_may_name_other_minor_units():
    assert minor_units({"minorUnits": {"JPY": 0, "KWD": 3}}) == {"JPY": 0, "KWD": 3}


def test_minor_units_mirror_the_typescript_catalog():
    """MINOR_UNITS must be CURRENCY_MINOR_UNITS of src/domain/feeds/catalog.ts."""
    import re

    from nightjar_spark.money import MINOR_UNITS

    from .conftest import REPO

    source = (REPO / "src" / "domain" / "feeds" / "catalog.ts").read_text()
    body = re.search(r"CURRENCY_MINOR_UNITS[^=]*= \{([^}]*)\}", source).group(1)
    assert {k: int(v) for k, v in re.findall(r"([A-Z]{3}): *([0-9]+)", body)} == MINOR_UNITS
