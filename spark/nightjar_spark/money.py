"""Money arithmetic of the jobs: one conversion, one rounding (docs/spark-jobs.md, "Money").

Every monetary output is rounded once, **half-up away from zero** (1.005 -> 1.01, -1.005 -> -1.01),
to the minor unit of the currency it is in: what bank statements and ledgers print, and what
Spark's `round()` on decimals does (Java's `RoundingMode.HALF_UP`). Products of a decimal(18,2)
amount and a decimal(18,8) rate are exact (decimal(37,10)); sums of them are exact too. Only a
division can lose digits, so `converted` checks its rounding against exact products.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

AMOUNT = T.DecimalType(18, 2)
RATE = T.DecimalType(18, 8)

# Mirror of CURRENCY_MINOR_UNITS in src/domain/feeds/catalog.ts (ISO 4217 exponents that are not
# 2). A spec may carry `minorUnits` to override it.
DEFAULT_MINOR_UNIT = 2
MINOR_UNITS: dict[str, int] = {"JPY": 0}


def minor_units(spec: Mapping[str, Any]) -> dict[str, int]:
    override = spec.get("minorUnits")
    return {str(k): int(v) for k, v in (override if override is not None else MINOR_UNITS).items()}


def minor_unit(units: Mapping[str, int], currency: str) -> int:
    return int(units.get(currency, DEFAULT_MINOR_UNIT))


def _unit(scale: int) -> Column:
    return F.lit(str(Decimal(1).scaleb(-scale))).cast(T.DecimalType(scale + 1, scale))


def exact_product(amount: Column, rate: Column) -> Column:
    """amount x rate without rounding: decimal(18,2) x decimal(18,8) = decimal(37,10)."""
    return amount.cast(AMOUNT) * rate.cast(RATE)


def rounded(value: Column, scale: int) -> Column:
    """`value` rounded half-up (away from zero) to `scale` decimals."""
    return F.round(value, scale)


def converted(amount: Column, from_rate: Column, to_rate: Column, scale: int) -> Column:
    """amount x from_rate / to_rate, rounded once half-up to `scale` decimals, exactly.

    Spark's decimal division keeps only 6 decimals here, so its quotient rounded to `scale` can be
    one unit off when the exact quotient sits within 5e-7 of a half unit. The candidate is checked
    with exact products: |r| is right when (2|r| - u) x to_rate <= 2|e| < (2|r| + u) x to_rate, with
    e = amount x from_rate and u the unit of `scale`; otherwise it moves by one unit.
    """
    exact = exact_product(amount, from_rate)
    to = to_rate.cast(RATE)
    guess = F.abs(F.round(exact / to, scale))
    unit = _unit(scale)
    twice = F.abs(exact) + F.abs(exact)  # decimal(38,10): exact
    bound = T.DecimalType(19, scale)  # x decimal(18,8) = decimal(38, scale + 8): exact
    low = ((guess + guess - unit).cast(bound) * to)
    high = ((guess + guess + unit).cast(bound) * to)
    magnitude = (
        F.when(low > twice, guess - unit).when(high <= twice, guess + unit).otherwise(guess)
    )
    return F.when(exact < 0, -magnitude).otherwise(magnitude).cast(T.DecimalType(20, scale))


def by_minor_unit(currency: Column, units: Mapping[str, int], build) -> Column:
    """`build(scale)` for the minor unit of each row's `currency` (default 2 decimals)."""
    exceptions: dict[int, list[str]] = {}
    for code, scale in sorted(units.items()):
        if scale != DEFAULT_MINOR_UNIT:
            exceptions.setdefault(scale, []).append(code)
    result = None
    for scale, codes in sorted(exceptions.items()):
        branch = build(scale)
        result = F.when(currency.isin(codes), branch) if result is None else result.when(currency.isin(codes), branch)
    default = build(DEFAULT_MINOR_UNIT)
    return default if result is None else result.otherwise(default)
