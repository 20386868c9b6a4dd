"""The feed catalog as received in the job spec (FEEDS of src/domain/feeds/catalog.ts)."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from pyspark.sql import types as T

# Mirror of KNOWN_CURRENCIES in src/domain/feeds/catalog.ts: the spec carries the feed catalog
# but not this list. A spec may carry `knownCurrencies` to override it.
KNOWN_CURRENCIES: tuple[str, ...] = (
    "EUR", "USD", "GBP", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "CAD", "AUD", "SGD",
)

# The reference-rate feed: `currency` -> `rate` (reporting-currency units per unit of currency).
FX_FEED = "fx_rates"
FX_CURRENCY_COLUMN = "currency"
FX_RATE_COLUMN = "rate"

# Columns that must fall on the business date (rule 3 of the normalize contract).
BUSINESS_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "transactions": ("booked_at",),
    FX_FEED: ("rate_date",),
}

AMOUNT_COLUMN = "amount"
AMOUNT_RPT_COLUMN = "amount_rpt"
LINE_NO_COLUMN = "line_no"
AMOUNT_RPT_TYPE = T.DecimalType(20, 2)


def feed_by_name(catalog: Iterable[dict[str, Any]], name: str) -> dict[str, Any]:
    for feed in catalog:
        if feed["name"] == name:
            return feed
    raise ValueError(f"unknown feed '{name}'")


def column(feed: dict[str, Any], name: str) -> dict[str, Any]:
    for col in feed["columns"]:
        if col["name"] == name:
            return col
    raise ValueError(f"feed {feed['name']} has no column '{name}'")


def column_names(feed: dict[str, Any]) -> list[str]:
    return [c["name"] for c in feed["columns"]]


def spark_type(col: dict[str, Any]) -> T.DataType:
    kind = col["type"]["kind"]
    if kind in ("string", "enum", "currency"):
        return T.StringType()
    if kind == "date":
        return T.DateType()
    if kind == "timestamp":
        return T.TimestampType()
    if kind == "decimal":
        return T.DecimalType(int(col["type"]["precision"]), int(col["type"]["scale"]))
    raise ValueError(f"column {col['name']}: unknown kind '{kind}'")


def currency_column(feed: dict[str, Any]) -> Optional[str]:
    for col in feed["columns"]:
        if col["type"]["kind"] == "currency":
            return col["name"]
    return None


def is_monetary(feed: dict[str, Any]) -> bool:
    """A feed whose rows carry money: a currency column and a decimal (not the rates themselves)."""
    if feed["name"] == FX_FEED or currency_column(feed) is None:
        return False
    return any(c["type"]["kind"] == "decimal" for c in feed["columns"])


def has_amount_rpt(feed: dict[str, Any]) -> bool:
    """Feeds with an `amount` and a currency get `amount_rpt` in the curated output."""
    names = column_names(feed)
    return AMOUNT_COLUMN in names and currency_column(feed) is not None and feed["name"] != FX_FEED


def curated_schema(feed: dict[str, Any]) -> T.StructType:
    """Schema of a feed's curated Parquet: typed catalog columns, `amount_rpt`, `line_no`."""
    fields = [T.StructField(c["name"], spark_type(c), True) for c in feed["columns"]]
    if has_amount_rpt(feed):
        fields.append(T.StructField(AMOUNT_RPT_COLUMN, AMOUNT_RPT_TYPE, True))
    fields.append(T.StructField(LINE_NO_COLUMN, T.LongType(), False))
    return T.StructType(fields)


def dependencies(feed: dict[str, Any]) -> list[str]:
    """Feeds whose accepted rows this feed's rules need (references, fx rates)."""
    deps: list[str] = []
    for col in feed["columns"]:
        ref = col.get("references")
        if ref and ref["feed"] != feed["name"] and ref["feed"] not in deps:
            deps.append(ref["feed"])
    if is_monetary(feed) and FX_FEED not in deps:
        deps.append(FX_FEED)
    return deps


def processing_order(catalog: list[dict[str, Any]]) -> list[str]:
    """Feed names with every feed after the feeds it depends on (catalog order otherwise)."""
    names = [f["name"] for f in catalog]
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise ValueError(f"reference cycle through feed '{name}'")
        visiting.add(name)
        for dep in dependencies(feed_by_name(catalog, name)):
            if dep in names:
                visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in names:
        visit(name)
    return order


def known_currencies(spec: dict[str, Any]) -> list[str]:
    override = spec.get("knownCurrencies")
    return list(override) if override else list(KNOWN_CURRENCIES)
