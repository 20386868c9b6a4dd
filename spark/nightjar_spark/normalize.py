"""normalize: raw feed CSV files -> typed curated Parquet plus rejects (docs/spark-jobs.md)."""
from __future__ import annotations

import csv
from decimal import Decimal, localcontext
from typing import Any, Optional

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from . import catalog as cat
from .frames import empty_frame, literal_frame
from .lines import (
    LINE_COLUMN,
    LINE_NO_COLUMN,
    TOTAL_COLUMN,
    LineCountMismatch,
    NumberedLines,
    numbered_lines,
    read_small_files_whole,
)
from .money import exact_product, minor_unit, minor_units, rounded
from .progress import progress
from .steps import run_steps, steps_at_once
from .spec import is_local, join_uri, local_path, spark_path
from .validation import REASON_CODES, column_reason, control_value, malformed_reason, reason_code, typed_value

REASON = "_nj_reason"
CSV_OPTIONS = {"sep": ",", "quote": '"', "escape": '"'}
REJECTS_WRITE_OPTIONS = {
    "header": "true",
    "sep": ",",
    "quote": '"',
    "escape": '"',
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
    "lineSep": "\n",
    "encoding": "UTF-8",
}


class ContractError(ValueError):
    """The input does not follow the extract contract in a way no reject reason covers."""


def _raw(name: str) -> str:
    return f"_nj_raw_{name}"


def _first_line(path: str) -> Optional[str]:
    """A local file's first line as `spark.read.text` sees it (split on LF, CRLF or CR, UTF-8
    with bad bytes replaced); None for an empty file."""
    with open(local_path(path), "r", encoding="utf-8", errors="replace", newline=None) as fh:
        line = fh.readline()
    return None if line == "" else line.rstrip("\n")


def _first_line_with_spark(spark: SparkSession, path: str) -> Optional[str]:
    first = spark.read.text(spark_path(path)).limit(1).collect()
    return first[0][0] if first else None


def _header_fields(header: str) -> list[str]:
    return next(csv.reader([header.lstrip("\ufeff")]))


def _typed(name: str) -> str:
    return f"_nj_typed_{name}"


def _first_reason(*reasons: Optional[Column]) -> Column:
    present = [r for r in reasons if r is not None]
    return F.coalesce(*present) if len(present) > 1 else present[0]


def _schema_ddl(names: list[str]) -> str:
    return ", ".join(f"`{n}` STRING" for n in names)


class FeedNormalizer:
    """Applies the contract's rules to one feed, given the accepted rows it depends on."""

    def __init__(self, spark: SparkSession, spec: dict[str, Any], feed: dict[str, Any]):
        self.spark = spark
        self.spec = spec
        self.feed = feed
        self.name = feed["name"]
        self.columns = feed["columns"]
        self.names = cat.column_names(feed)
        self.business_date = spec["businessDate"]
        self.known_currencies = cat.known_currencies(spec)
        # Every frame persisted for this feed's writes; `release` drops them after the last one.
        self.kept: list[DataFrame] = []

    def keep(self, frame: DataFrame) -> DataFrame:
        """`frame` persisted (memory, then disk) until `release`."""
        kept = frame.persist(StorageLevel.MEMORY_AND_DISK)
        self.kept.append(kept)
        return kept

    def release(self) -> None:
        for frame in self.kept:
            frame.unpersist()
        self.kept.clear()

    # -- reading -------------------------------------------------------------------------------
    def read_lines(self, path: str) -> NumberedLines:
        """The file's numbered lines (with the file's line count in each row); checks the header.

        A local file's header is read here, without a Spark job, and a local file of one split
        is numbered without one (`numbered_lines`); elsewhere the header is the first line of the
        file's first split (one small job). Either way the numbered lines are computed once, by
        the first write over the rows made from them."""
        local = is_local(path)
        header = _first_line(path) if local else _first_line_with_spark(self.spark, path)
        if header is not None:
            fields = _header_fields(header)
            if fields != self.names:
                raise ContractError(f"feed {self.name}: header {fields} is not the catalog's columns {self.names}")
        return numbered_lines(self.spark, spark_path(path), local_path(path) if local else None)

    # -- rules 1 to 3 ------------------------------------------------------------------------
    def classify_rows(self, lines: DataFrame) -> DataFrame:
        """Data lines (neither the first nor the last line) with the first failing of rules 1-3."""
        data = lines.filter(
            (F.col(LINE_NO_COLUMN) > 1) & (F.col(LINE_NO_COLUMN) < F.col(TOTAL_COLUMN))
        )
        line = F.col(LINE_COLUMN)
        parsed = F.from_csv(line, _schema_ddl(self.names), CSV_OPTIONS)
        data = data.select(
            F.col(LINE_NO_COLUMN),
            line,
            F.col(TOTAL_COLUMN),
            *[parsed.getField(n).alias(_raw(n)) for n in self.names],
        )
        # The typed values in a projection of their own, referenced by the rules and the output:
        # Spark keeps a projection apart when its expressions are costly and used more than once,
        # so each date, timestamp and decimal is parsed once per row.
        data = data.select(
            "*", *[typed_value(c, F.col(_raw(c["name"]))).alias(_typed(c["name"])) for c in self.columns]
        )
        reasons: list[Optional[Column]] = [malformed_reason(line, len(self.names))]
        for col in self.columns:
            name = col["name"]
            reasons.append(column_reason(col, F.col(_raw(name)), self.known_currencies, F.col(_typed(name))))
        reasons.extend(self._minor_unit_reasons())
        for name in cat.BUSINESS_DATE_COLUMNS.get(self.name, ()):
            if name in self.names:
                reasons.append(self._business_date_reason(cat.column(self.feed, name)))
        return data.select(
            F.col(LINE_NO_COLUMN),
            F.col(LINE_COLUMN),
            F.col(TOTAL_COLUMN),
            *[F.col(_typed(c["name"])).alias(c["name"]) for c in self.columns],
            _first_reason(*reasons).alias(REASON),
        )

    def _minor_unit_reasons(self) -> list[Column]:
        """Rule 2b: amounts with more decimals than their currency's minor unit (trailing zeros
        aside), e.g. 1500.50 JPY. Runs after rule 2, so the currency is known."""
        currency = cat.currency_column(self.feed)
        if not cat.is_monetary(self.feed) or currency is None:
            return []
        by_unit: dict[int, list[str]] = {}
        for code, unit in minor_units(self.spec).items():
            by_unit.setdefault(unit, []).append(code)
        reasons = []
        for col in self.columns:
            if col["type"]["kind"] != "decimal":
                continue
            raw = F.col(_raw(col["name"]))
            for unit, codes in sorted(by_unit.items()):
                too_fine = F.col(_raw(currency)).isin(codes) & raw.rlike(f"\\.[0-9]{{{unit}}}[0-9]*[1-9]")
                reasons.append(F.when(too_fine, F.lit(f"INVALID_FORMAT:{col['name']}")))
        return reasons

    def _business_date_reason(self, col: dict[str, Any]) -> Column:
        value = F.col(_typed(col["name"]))
        on_date = F.to_date(value) if col["type"]["kind"] == "timestamp" else value
        wrong = F.coalesce(on_date != F.lit(self.business_date).cast(T.DateType()), F.lit(False))
        return F.when(wrong, F.lit(f"WRONG_BUSINESS_DATE:{col['name']}"))

    # -- rule 4 ---------------------------------------------------------------------------------
    def reject_duplicates(self, rows: DataFrame) -> DataFrame:
        """Every candidate line (no reason yet) whose key an earlier candidate line holds.

        Only the keys held by more than one candidate, with their first line, are computed (a
        grouping of the key and line number, partially aggregated before its shuffle) and
        broadcast back to the rows: the rows themselves are never shuffled or sorted. The driver
        holds the duplicated keys, a handful on a real night."""
        pk = list(self.feed["primaryKey"])
        if not pk:
            return rows
        keys = [f"_nj_dupkey{i}" for i in range(len(pk))]
        first = "_nj_dup_first"
        duplicated = (
            rows.filter(F.col(REASON).isNull())
            .groupBy(*[F.col(c).alias(k) for c, k in zip(pk, keys)])
            .agg(F.min(LINE_NO_COLUMN).alias(first), F.count(F.lit(1)).alias("_nj_dup_n"))
            .filter(F.col("_nj_dup_n") > 1)
            .drop("_nj_dup_n")
        )
        # Kept: both writes join it, and it is the one aggregation their plans would repeat.
        duplicated = self.keep(duplicated)
        # Null-safe: the grouping puts null keys together, so the join must too.
        on = [rows[c].eqNullSafe(duplicated[k]) for c, k in zip(pk, keys)]
        joined = rows.join(F.broadcast(duplicated), on, "left")
        duplicate = F.col(REASON).isNull() & F.col(first).isNotNull() & (F.col(LINE_NO_COLUMN) != F.col(first))
        return joined.withColumn(
            REASON,
            F.when(duplicate, F.lit("DUPLICATE_KEY:" + "+".join(pk))).otherwise(F.col(REASON)),
        ).drop(*keys, first)

    # -- rule 5 ---------------------------------------------------------------------------------
    def reject_unknown_references(self, rows: DataFrame, accepted: dict[str, DataFrame]) -> DataFrame:
        for i, col in enumerate(self.columns):
            ref = col.get("references")
            if not ref:
                continue
            key, flag = f"_nj_refkey{i}", f"_nj_refok{i}"
            source = accepted.get(ref["feed"])
            if source is None:
                keys = empty_frame(self.spark, T.StructType([T.StructField(key, T.StringType())]))
            else:
                keys = source.select(F.col(ref["column"]).cast(T.StringType()).alias(key))
                ref_feed = cat.feed_by_name(self.spec["catalog"], ref["feed"])
                if list(ref_feed["primaryKey"]) != [ref["column"]]:
                    keys = keys.distinct()  # accepted rows are unique by primary key only
            keys = keys.withColumn(flag, F.lit(True))
            name = col["name"]
            rows = rows.join(F.broadcast(keys), rows[name] == keys[key], "left")
            unknown = F.col(REASON).isNull() & F.col(name).isNotNull() & F.col(flag).isNull()
            rows = rows.withColumn(
                REASON, F.when(unknown, F.lit(f"UNKNOWN_REFERENCE:{name}")).otherwise(F.col(REASON))
            ).drop(key, flag)
        return rows

    # -- rule 6 and amount_rpt -------------------------------------------------------------------
    def convert_currency(self, rows: DataFrame, rates: DataFrame) -> DataFrame:
        currency = cat.currency_column(self.feed)
        if not cat.is_monetary(self.feed) or currency is None:
            return rows
        rows = rows.join(F.broadcast(rates), rows[currency] == rates["_nj_fx_currency"], "left")
        missing = F.col(REASON).isNull() & F.col("_nj_fx_rate").isNull()
        rows = rows.withColumn(
            REASON, F.when(missing, F.lit(f"NO_FX_RATE:{currency}")).otherwise(F.col(REASON))
        )
        if cat.has_amount_rpt(self.feed):
            # The exact product rounded once, half-up, to the reporting currency's minor unit.
            scale = minor_unit(minor_units(self.spec), self.spec["reportingCurrency"])
            exact = exact_product(F.col(cat.AMOUNT_COLUMN), F.col("_nj_fx_rate"))
            amount_rpt = rounded(exact, scale).cast(cat.AMOUNT_RPT_TYPE)
            rows = rows.withColumn(
                cat.AMOUNT_RPT_COLUMN, F.when(F.col(REASON).isNull(), amount_rpt)
            )
        return rows.drop("_nj_fx_currency", "_nj_fx_rate")

    def accepted_rows(self, rows: DataFrame) -> DataFrame:
        schema = cat.curated_schema(self.feed)
        return rows.filter(F.col(REASON).isNull()).select(
            *[
                (F.col(LINE_NO_COLUMN) if f.name == cat.LINE_NO_COLUMN else F.col(f.name)).cast(f.dataType).alias(f.name)
                for f in schema.fields
            ]
        )

    # -- money quarantined ------------------------------------------------------------------------
    def control_amounts(self) -> tuple[Column, Column, int]:
        """Sums of the control column over the accepted rows (their typed values) and over the
        rejected lines whose control value the trailer counts (read from the raw line as the
        trailer reads it): with the trailer's sum they must balance exactly."""
        control = self.feed.get("controlColumn")
        if not control:
            zero = F.lit(0).cast(T.DecimalType(38, 0))
            return zero, zero, 0
        scale = int(cat.column(self.feed, control)["type"]["scale"])
        money = T.DecimalType(38, scale)
        index = self.names.index(control)
        accepted = F.sum(F.when(F.col(REASON).isNull(), F.col(control).cast(money)))
        rejected = F.sum(F.when(F.col(REASON).isNotNull(), control_value(F.col(LINE_COLUMN), index, scale)))
        return F.coalesce(accepted, F.lit(0).cast(money)), F.coalesce(rejected, F.lit(0).cast(money)), scale

    @staticmethod
    def rejected_rows(rows: DataFrame) -> DataFrame:
        return rows.filter(F.col(REASON).isNotNull()).select(
            F.col(LINE_NO_COLUMN).alias("line_no"),
            F.col(REASON).alias("reason"),
            F.col(LINE_COLUMN).alias("record"),
        )


def decimal_text(value: Any, scale: int) -> str:
    """An exact decimal written with exactly `scale` decimals, as the trailer writes its sum."""
    with localcontext() as ctx:
        ctx.prec = 80
        return format(Decimal(value).quantize(Decimal(1).scaleb(-scale)), "f")


def fx_rates_table(spark: SparkSession, accepted_fx: Optional[DataFrame], reporting_currency: str) -> DataFrame:
    """`(_nj_fx_currency, _nj_fx_rate)` from the accepted fx rates; the reporting currency is 1."""
    rate_type = T.DecimalType(18, 8)
    one = literal_frame(
        spark,
        [(reporting_currency, 1)],
        T.StructType([T.StructField("_nj_fx_currency", T.StringType()), T.StructField("_nj_fx_rate", rate_type)]),
    )
    if accepted_fx is None:
        return one
    others = accepted_fx.filter(F.col(cat.FX_CURRENCY_COLUMN) != F.lit(reporting_currency)).select(
        F.col(cat.FX_CURRENCY_COLUMN).alias("_nj_fx_currency"),
        F.col(cat.FX_RATE_COLUMN).cast(rate_type).alias("_nj_fx_rate"),
    )
    return others.unionByName(one)


def run_normalize(spark: SparkSession, spec: dict[str, Any]) -> dict[str, Any]:
    """Runs the normalize job for `spec`; returns the result object (not yet written)."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    read_small_files_whole(spark)
    catalog = spec["catalog"]
    inputs: dict[str, str] = spec.get("inputs") or {}
    unknown = [name for name in inputs if name not in {f["name"] for f in catalog}]
    if unknown:
        raise ContractError(f"inputs name feeds that are not in the catalog: {unknown}")
    order = [name for name in cat.processing_order(catalog) if name in inputs]
    at_once = steps_at_once(spec)
    accepted: dict[str, DataFrame] = {}

    def one_feed(name: str) -> dict[str, Any]:
        progress("normalize", feed=name, step="read", feedIndex=order.index(name) + 1, feeds=len(order))
        normalizer = FeedNormalizer(spark, spec, cat.feed_by_name(catalog, name))
        try:
            result = normalize_feed(normalizer, inputs[name], spec["outputUri"], accepted)
        finally:
            # Also when the feed fails: on a warm driver, which outlives the attempt, a failed
            # attempt's persisted rows would otherwise stay in its memory.
            normalizer.release()
        # Later feeds check against what was written, which also keeps their plans short. A
        # feed starts only after the feeds it depends on, so it finds their entry here.
        accepted[name] = spark.read.schema(cat.curated_schema(normalizer.feed)).parquet(
            spark_path(result["curatedUri"])
        )
        return result

    # Feeds no other feed waits for run side by side (customers and fx rates; transactions and
    # payments), each after the feeds its references and currency rule read.
    after = {name: cat.dependencies(cat.feed_by_name(catalog, name)) for name in order}
    results = run_steps(order, after, one_feed, at_once)
    feeds = [results[f["name"]] for f in catalog if f["name"] in results]
    return {"job": "normalize", "feeds": feeds}


def normalize_feed(
    normalizer: FeedNormalizer, path: str, output_uri: str, accepted: dict[str, DataFrame]
) -> dict[str, Any]:
    """One feed: its curated Parquet and its rejects written, its counts and money checked."""
    spark, feed, name = normalizer.spark, normalizer.feed, normalizer.name
    lines = normalizer.read_lines(path)
    # The per-row work (line numbers, CSV parsing, rules 1-3) is done once, in one scan of the
    # file, and kept: the duplicate keys' grouping and both writes read it. Rules 4-6 are
    # broadcast joins with small tables (the duplicated keys, kept too; the referenced keys; the
    # FX rates). A file Spark reads as one partition (a few MB) keeps its rows with every rule
    # applied as well, so its rejects write is one job; a larger file's rejects write joins
    # again: a second copy of every row costs more than the joins and three more small jobs.
    classified = normalizer.keep(normalizer.classify_rows(lines.frame))
    rows = normalizer.reject_duplicates(classified)
    rows = normalizer.reject_unknown_references(rows, accepted)
    if cat.is_monetary(feed):
        rows = normalizer.convert_currency(
            rows, fx_rates_table(spark, accepted.get(cat.FX_FEED), normalizer.spec["reportingCurrency"])
        )
    if lines.one_partition:
        rows = normalizer.keep(rows)

    # Counted while written (Observations), not by a pass of their own: the accepted rows'
    # count and money, the rejected rows' count per reason code and money, the line count.
    amount_accepted, amount_rejected, scale = normalizer.control_amounts()
    accepted_seen = Observation(f"accepted-{name}")
    rejected_seen = Observation(f"rejected-{name}")
    code = reason_code(F.col(REASON))
    curated_uri = join_uri(output_uri, name)
    rejects_uri = join_uri(output_uri, "rejects", name)
    normalizer.accepted_rows(
        rows.observe(
            accepted_seen,
            F.count_if(F.col(REASON).isNull()).alias("n"),
            amount_accepted.alias("amount"),
            F.max(TOTAL_COLUMN).alias("lines"),
        )
    ).write.mode("overwrite").parquet(spark_path(curated_uri))
    (
        FeedNormalizer.rejected_rows(
            rows.observe(
                rejected_seen,
                F.count_if(F.col(REASON).isNotNull()).alias("n"),
                amount_rejected.alias("amount"),
                *[F.count_if(code == F.lit(c)).alias(c) for c in REASON_CODES],
            )
        )
        .coalesce(1)
        .sortWithinPartitions("line_no")
        .write.mode("overwrite")
        .options(**REJECTS_WRITE_OPTIONS)
        .csv(spark_path(rejects_uri))
    )
    normalizer.release()
    try:
        lines.check()
    except LineCountMismatch as exc:
        raise ContractError(f"feed {name}: {exc}") from None
    result = _checked_counts(name, accepted_seen.get, rejected_seen.get, scale)
    progress("normalize", feed=name, step="written", curatedUri=curated_uri, rejectsUri=rejects_uri)
    return {**result, "curatedUri": curated_uri, "rejectsUri": rejects_uri}


def _checked_counts(name: str, accepted: dict[str, Any], rejected: dict[str, Any], scale: int) -> dict[str, Any]:
    """The feed's counts, reasons and money from the writes' observations, checked to add up."""
    # Every row carries the file's line count; without data lines there are none to check.
    rows_in = max(int(accepted.get("lines") or 2) - 2, 0)
    rows_accepted = int(accepted["n"])
    rows_rejected = int(rejected["n"])
    counts = {c: int(rejected[c]) for c in REASON_CODES if int(rejected[c]) > 0}
    if sum(counts.values()) != rows_rejected:
        raise AssertionError(f"feed {name}: {rows_rejected} rejected rows but reason codes {counts}")
    if rows_accepted + rows_rejected != rows_in:
        raise AssertionError(f"feed {name}: {rows_in} data lines but {rows_accepted} accepted + {rows_rejected} rejected")
    progress("normalize", feed=name, step="validated", rowsIn=rows_in,
             rowsAccepted=rows_accepted, rowsRejected=rows_rejected)
    return {
        "feed": name,
        "rowsIn": rows_in,
        "rowsAccepted": rows_accepted,
        "rowsRejected": rows_rejected,
        "rejectReasons": dict(sorted(counts.items())),
        "amountAccepted": decimal_text(accepted["amount"], scale),
        "amountRejected": decimal_text(rejected["amount"], scale),
    }
