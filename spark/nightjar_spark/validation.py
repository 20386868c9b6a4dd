"""Validation expressions built from the catalog's column types (DataFrame API only).

Each builder takes the raw field value (a string Column, null or "" when empty) and returns a
Column. `column_reason` gives the first failing rule of one column, in the contract's order
(MISSING_VALUE, INVALID_FORMAT, UNKNOWN_CURRENCY, OUT_OF_RANGE), or null when the value passes.
Timestamp checks format in the session time zone, which the jobs set to UTC.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Optional

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

DATE_FORMAT = "yyyy-MM-dd"
TIMESTAMP_PARSE_FORMAT = "yyyy-MM-dd'T'HH:mm:ssX"
TIMESTAMP_OUTPUT_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
DATE_REGEX = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TIMESTAMP_REGEX = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"


def decimal_regex(precision: int, scale: int) -> str:
    """Optional minus, at most `precision - scale` integer digits, at most `scale` decimals."""
    int_digits = precision - scale
    integer = f"[0-9]{{1,{int_digits}}}" if int_digits > 0 else "0"
    fraction = f"(\\.[0-9]{{1,{scale}}})?" if scale > 0 else ""
    return f"^-?{integer}{fraction}$"


def decimal_literal(value: Any) -> Column:
    """An exact decimal literal for a JSON number (never goes through a double)."""
    plain = format(Decimal(str(value)), "f")
    int_part, _, fraction = plain.lstrip("-").partition(".")
    scale = len(fraction)
    precision = max(len(int_part) + scale, 1) + 1
    return F.lit(plain).cast(T.DecimalType(min(38, precision), scale))


def is_empty(value: Column) -> Column:
    return value.isNull() | (value == F.lit(""))


# The typed values are read by the cast's parser, not by a pattern's formatter: both are strict
# (no 30 February, no hour 24, no second 60) and agree on every value of the contract's shape,
# and the cast's is two to three times faster. The cast also reads lenient forms (a date alone
# as a timestamp, a space for the T); `format_ok` rejects those by the shape and the round trip
# through the pattern, so what is accepted and its value do not depend on the parser.


def parse_date(value: Column) -> Column:
    return value.try_cast(T.DateType())


def parse_timestamp(value: Column) -> Column:
    return value.try_cast(T.TimestampType())


def typed_value(col: dict[str, Any], value: Column) -> Column:
    """The value converted to the column's Spark type; null when empty or not convertible."""
    kind = col["type"]["kind"]
    if kind in ("string", "enum", "currency"):
        return F.when(is_empty(value), F.lit(None).cast(T.StringType())).otherwise(value)
    if kind == "date":
        return parse_date(value)
    if kind == "timestamp":
        return parse_timestamp(value)
    if kind == "decimal":
        return value.try_cast(T.DecimalType(int(col["type"]["precision"]), int(col["type"]["scale"])))
    raise ValueError(f"column {col['name']}: unknown kind '{kind}'")


def format_ok(col: dict[str, Any], value: Column, typed: Optional[Column] = None) -> Optional[Column]:
    """True when a non-empty value has the column's format; None when the kind has no format rule.
    `typed` is `typed_value(col, value)` when the caller has it already (parsed once per row)."""
    t = col["type"]
    kind = t["kind"]
    typed = typed if typed is not None else typed_value(col, value)
    if kind == "string":
        ok = F.length(value) <= F.lit(int(t["maxLength"]))
        if t.get("pattern"):
            ok = ok & value.rlike(t["pattern"])
    elif kind == "enum":
        ok = value.isin(list(t["values"]))
    elif kind == "date":
        # The round trip rejects anything the parser would resolve leniently (e.g. 2026-02-30).
        ok = value.rlike(DATE_REGEX) & (F.date_format(typed, DATE_FORMAT) == value)
    elif kind == "timestamp":
        ok = value.rlike(TIMESTAMP_REGEX) & (F.date_format(typed, TIMESTAMP_OUTPUT_FORMAT) == value)
    elif kind == "decimal":
        ok = value.rlike(decimal_regex(int(t["precision"]), int(t["scale"])))
    elif kind == "currency":
        return None
    else:
        raise ValueError(f"column {col['name']}: unknown kind '{kind}'")
    return F.coalesce(ok, F.lit(False))


def column_reason(
    col: dict[str, Any], value: Column, known_currencies: Iterable[str], typed: Optional[Column] = None
) -> Column:
    """The reject reason of one column's value, or null when it passes every rule. `typed` is
    `typed_value(col, value)` when the caller has it already: a column projected before the rules
    is computed once per row, where the rules' conditional branches would parse it again."""
    typed = typed if typed is not None else typed_value(col, value)
    name = col["name"]
    t = col["type"]
    no_reason = F.lit(None).cast(T.StringType())
    empty = is_empty(value)
    if col.get("nullable"):
        chain = F.when(empty, no_reason)
    else:
        chain = F.when(empty, F.lit(f"MISSING_VALUE:{name}"))
    ok = format_ok(col, value, typed)
    if ok is not None:
        chain = chain.when(~ok, F.lit(f"INVALID_FORMAT:{name}"))
    if t["kind"] == "currency":
        chain = chain.when(~value.isin(list(known_currencies)), F.lit(f"UNKNOWN_CURRENCY:{name}"))
    if t["kind"] == "decimal" and t.get("min") is not None:
        minimum = decimal_literal(t["min"])
        below = typed <= minimum if t.get("minExclusive") else typed < minimum
        chain = chain.when(F.coalesce(below, F.lit(False)), F.lit(f"OUT_OF_RANGE:{name}"))
    return chain.otherwise(no_reason)


def _count_of(value: Column, char: str) -> Column:
    """How often `char`, one ASCII character, occurs in `value`: the bytes its removal takes away.
    No byte of another character's UTF-8 encoding is ASCII, so the count is exact; a plain
    replace over the bytes costs a tenth of a regular expression's (which decodes the line)."""
    if len(char.encode("utf-8")) != 1:
        raise ValueError(f"not one ASCII character: {char!r}")
    return F.octet_length(value) - F.octet_length(F.replace(value, F.lit(char), F.lit("")))


def has_quote(line: Column) -> Column:
    return F.instr(line, '"') > F.lit(0)


def quote_count(line: Column) -> Column:
    return _count_of(line, '"')


def field_count(line: Column, quoted: Optional[Column] = None) -> Column:
    """Fields of a CSV line: commas outside quoted sections, plus one. A line without quotes (the
    most of them) skips the quoted sections' regular expression. `quoted` is `has_quote(line)`
    when the caller has it already."""
    quoted = quoted if quoted is not None else has_quote(line)
    outside = F.when(quoted, F.regexp_replace(line, '"[^"]*"', "")).otherwise(line)
    return _count_of(outside, ",") + F.lit(1)


def malformed_reason(line: Column, expected_fields: int) -> Column:
    quoted = has_quote(line)
    return (
        F.when(quoted & ((quote_count(line) % 2) == 1), F.lit("MALFORMED_RECORD:quoting"))
        .when(field_count(line, quoted) != F.lit(expected_fields), F.lit("MALFORMED_RECORD:field_count"))
        .otherwise(F.lit(None).cast(T.StringType()))
    )


# Every reason code a rule can give (the part before the colon); normalize counts rejects per code.
REASON_CODES = (
    "MALFORMED_RECORD",
    "MISSING_VALUE",
    "INVALID_FORMAT",
    "UNKNOWN_CURRENCY",
    "OUT_OF_RANGE",
    "WRONG_BUSINESS_DATE",
    "DUPLICATE_KEY",
    "UNKNOWN_REFERENCE",
    "NO_FX_RATE",
)


def reason_code(reason: Column) -> Column:
    """`UNKNOWN_CURRENCY:currency` -> `UNKNOWN_CURRENCY`."""
    return F.substring_index(reason, ":", 1)


# One CSV field as the trailer's control sum reads it: quoted (closed, `""` an escaped quote, text
# after the closing quote allowed), unquoted (not starting with a quote; quotes inside are text),
# or empty. Possessive quantifiers: no backtracking on long lines.
_CSV_FIELD = r'(?:"(?:[^"]|"")*+"[^,]*+|[^",][^,]*+|)'


def control_decimal_regex(scale: int) -> str:
    """A control value as the trailer sums it: optional '-', digits, at most `scale` decimals
    (no '+', exponent, spaces or thousands separators; no limit on integer digits)."""
    fraction = f"(\\.[0-9]{{1,{scale}}})?" if scale > 0 else ""
    return f"^-?[0-9]+{fraction}$"


def control_field(line: Column, index: int) -> Column:
    """Field `index` (0-based) of a raw line as the ingest's trailer check reads it
    (`controlField` in src/feeds/inspect.ts), or null when the line has no such field.

    No quote up to the field's end: the line is cut at commas. Otherwise the whole line must read
    as CSV (every quoted field closed) and the field is unquoted; a line that does not read has
    no control value.
    """
    parts = F.split(line, ",")
    plain_end = F.length(F.array_join(F.slice(parts, 1, index + 1), ","))
    first_quote = F.locate('"', line)
    plain = F.when(F.size(parts) > index, F.element_at(parts, index + 1))
    readable = line.rlike(f"^{_CSV_FIELD}(?:,{_CSV_FIELD})*+$")
    raw = F.regexp_extract(line, f"^(?:{_CSV_FIELD},){{{index}}}({_CSV_FIELD})(?:,|$)", 1)
    quoted_field = F.when(
        raw.rlike(r'^"(?:[^"]|"")*"$'), F.regexp_replace(F.regexp_extract(raw, r'^"(.*)"$', 1), '""', '"')
    ).otherwise(raw)
    unquoted = F.when(readable & line.rlike(f"^(?:{_CSV_FIELD},){{{index}}}"), quoted_field)
    return F.when((first_quote == 0) | (first_quote > plain_end), plain).otherwise(unquoted)


def control_value(line: Column, index: int, scale: int) -> Column:
    """The line's control value as an exact decimal(38, scale), or null when the trailer does not
    count the line (no such field, or not a decimal by `control_decimal_regex`)."""
    field = control_field(line, index)
    return F.when(
        field.rlike(control_decimal_regex(scale)), field.try_cast(T.DecimalType(38, scale))
    )
