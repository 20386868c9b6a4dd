"""transform: curated Parquet -> one CSV dataset per Spark report (docs/spark-jobs.md)."""
from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any, Callable

from pyspark.sql import Column, DataFrame, Observation, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from . import catalog as cat
from .frames import empty_frame, literal_frame
from .money import by_minor_unit, converted, exact_product, minor_unit, minor_units, rounded
from .progress import progress
from .spec import join_uri, spark_path
from .steps import run_steps, steps_at_once
from .validation import DATE_FORMAT, TIMESTAMP_OUTPUT_FORMAT, decimal_literal

MONEY = T.DecimalType(20, 2)
RATE = T.DecimalType(18, 8)

REPORT_WRITE_OPTIONS = {
    "header": "true",
    "sep": ",",
    "quote": '"',
    "escape": '"',
    "nullValue": "",
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
    "lineSep": "\n",
    "encoding": "UTF-8",
}

# Payment statuses whose money moved or is moving: a REJECTED payment never left the account and
# a RETURNED one came back, so neither is the customer's activity (docs/spark-jobs.md).
ACTIVITY_PAYMENT_STATUSES = ("SETTLED", "PENDING")

DEFAULT_THRESHOLDS = {
    "largeValueRpt": 10000,
    "structuringThresholdRpt": 10000,
    "structuringBandLow": 0.8,
    "structuringMinCount": 3,
}


def _zero() -> Column:
    return F.lit(0).cast(MONEY)


class ReportBuilder:
    """Builds the Spark reports from the curated datasets of one business date."""

    def __init__(self, spark: SparkSession, spec: dict[str, Any]):
        self.spark = spark
        self.spec = spec
        self.catalog = spec["catalog"]
        self.business_date = spec["businessDate"]
        self.reporting_currency = spec["reportingCurrency"]
        self.thresholds = {**DEFAULT_THRESHOLDS, **(spec.get("thresholds") or {})}
        self.inputs: dict[str, str] = spec.get("inputs") or {}
        self.minor_units = minor_units(spec)
        self.rpt_scale = minor_unit(self.minor_units, self.reporting_currency)
        self._frames: dict[str, DataFrame] = {}
        # The reports are built on several threads (run_transform); each frame is made once.
        self._frames_lock = threading.RLock()

    # -- inputs ---------------------------------------------------------------------------------
    def feed(self, name: str) -> DataFrame:
        """A feed's curated rows; an absent (optional) feed is an empty dataset of the same shape."""
        def make() -> DataFrame:
            schema = cat.curated_schema(cat.feed_by_name(self.catalog, name))
            uri = self.inputs.get(name)
            if uri is None:
                return empty_frame(self.spark, schema)
            return self.spark.read.schema(schema).parquet(spark_path(uri))

        return self._memo(name, make)

    def _memo(self, key: str, make: Callable[[], DataFrame]) -> DataFrame:
        with self._frames_lock:
            if key not in self._frames:
                self._frames[key] = make()
            return self._frames[key]

    def rates(self) -> DataFrame:
        """`(rate_currency, rate)`; the reporting currency always has rate 1."""
        fx = self.feed(cat.FX_FEED)
        others = fx.filter(F.col(cat.FX_CURRENCY_COLUMN) != F.lit(self.reporting_currency)).select(
            F.col(cat.FX_CURRENCY_COLUMN).alias("rate_currency"), F.col(cat.FX_RATE_COLUMN).cast(RATE).alias("rate")
        )
        one = literal_frame(
            self.spark,
            [(self.reporting_currency, 1)],
            T.StructType([T.StructField("rate_currency", T.StringType()), T.StructField("rate", RATE)]),
        )
        return others.unionByName(one)

    def with_rate(self, frame: DataFrame) -> DataFrame:
        """The rows with `rate` (their currency's) and `amount_rpt_exact` = amount x rate, unrounded."""
        rates = F.broadcast(self.rates().withColumnRenamed("rate_currency", "currency"))
        return frame.join(rates, "currency", "left").withColumn(
            "amount_rpt_exact", exact_product(F.col("amount"), F.col("rate"))
        )

    def rpt_money(self, exact: Column) -> Column:
        """An exact reporting-currency value rounded once to the reporting currency's minor unit."""
        return rounded(exact, self.rpt_scale).cast(MONEY)

    def accounts_dimension(self) -> DataFrame:
        """The account attributes transactions and payments are enriched with."""
        return self.feed("accounts").select(
            "account_id",
            "customer_id",
            "product",
            F.col("currency").alias("account_currency"),
        )

    def enriched_transactions(self) -> DataFrame:
        """Transactions with their account's customer, product and currency.

        The accounts dimension is joined with an explicit broadcast: the driver collects the
        whole dimension and builds the hash table it ships to the tasks, so the driver's memory
        must hold it. Not cached: each report reads only the Parquet columns it needs, which
        costs less than materializing every column of a million rows once (the dimension is
        broadcast once per report that uses it).
        """
        return self._memo(
            "enriched_transactions",
            lambda: self.with_rate(self.feed("transactions")).join(
                F.broadcast(self.accounts_dimension()), "account_id", "left"
            ),
        )

    def enriched_payments(self) -> DataFrame:
        """Payments with their debtor account's customer (join strategy left to Spark)."""
        def make() -> DataFrame:
            accounts = self.accounts_dimension().select(
                F.col("account_id").alias("debtor_account_id"), "customer_id"
            )
            return self.with_rate(self.feed("payments")).join(accounts, "debtor_account_id", "left")

        return self._memo("enriched_payments", make)

    def _business_date(self) -> Column:
        return F.lit(self.business_date).cast(T.DateType()).alias("business_date")

    # -- reports --------------------------------------------------------------------------------
    def eod_balances(self) -> DataFrame:
        rates = self.rates()
        account_rates = F.broadcast(
            rates.select(F.col("rate_currency").alias("account_currency"), F.col("rate").alias("account_rate"))
        )
        txns = self.enriched_transactions().join(account_rates, "account_currency", "left")
        # Each transaction is posted to its account once: in another currency it is converted with
        # the cross rate, amount x rate(C) / rate(A), rounded once to the account currency's minor
        # unit; the day's credits and debits are sums of these posted amounts, as on a statement.
        posted = F.when(
            F.col("currency") == F.col("account_currency"), F.col("amount").cast(MONEY)
        ).otherwise(
            by_minor_unit(
                F.col("account_currency"),
                self.minor_units,
                lambda scale: converted(F.col("amount"), F.col("rate"), F.col("account_rate"), scale),
            ).cast(MONEY)
        )
        per_account = txns.groupBy("account_id").agg(
            F.sum(F.when(F.col("direction") == "CREDIT", posted).otherwise(_zero())).alias("credits"),
            F.sum(F.when(F.col("direction") == "DEBIT", posted).otherwise(_zero())).alias("debits"),
            F.count(F.lit(1)).alias("txn_count"),
        )
        accounts = (
            self.feed("accounts")
            .select("account_id", "customer_id", "product", F.col("currency").alias("account_currency"), "opening_balance")
            .join(account_rates, "account_currency", "left")
        )
        joined = accounts.join(per_account, "account_id", "left")
        credits = F.coalesce(F.col("credits"), _zero()).cast(MONEY)
        debits = F.coalesce(F.col("debits"), _zero()).cast(MONEY)
        closing = (F.col("opening_balance") + credits - debits).cast(MONEY)
        return joined.select(
            self._business_date(),
            "account_id",
            "customer_id",
            "product",
            F.col("account_currency").alias("currency"),
            F.col("opening_balance").cast(MONEY).alias("opening_balance"),
            credits.alias("credits"),
            debits.alias("debits"),
            closing.alias("closing_balance"),
            self.rpt_money(closing * F.col("account_rate")).alias("closing_balance_rpt"),
            F.coalesce(F.col("txn_count"), F.lit(0)).cast(T.IntegerType()).alias("txn_count"),
        )

    def customer_activity(self) -> DataFrame:
        txns = self.enriched_transactions().groupBy("customer_id").agg(
            F.count(F.lit(1)).alias("txn_count"),
            F.sum("amount_rpt_exact").alias("txn_amount_rpt"),
            F.countDistinct("channel").alias("channels_used"),
            F.max("booked_at").alias("last_txn_at"),
        )
        payments = self.enriched_payments().filter(F.col("status").isin(*ACTIVITY_PAYMENT_STATUSES))
        payments = payments.groupBy("customer_id").agg(
            F.count(F.lit(1)).alias("payment_count"),
            F.sum("amount_rpt_exact").alias("payment_amount_rpt"),
            F.max("initiated_at").alias("last_payment_at"),
        )
        active = txns.join(payments, "customer_id", "full_outer").filter(F.col("customer_id").isNotNull())
        customers = self.feed("customers").select("customer_id", "segment")
        return active.join(customers, "customer_id", "left").select(
            self._business_date(),
            "customer_id",
            "segment",
            F.coalesce(F.col("txn_count"), F.lit(0)).cast(T.IntegerType()).alias("txn_count"),
            self.rpt_money(F.coalesce(F.col("txn_amount_rpt"), _zero())).alias("txn_amount_rpt"),
            F.coalesce(F.col("payment_count"), F.lit(0)).cast(T.IntegerType()).alias("payment_count"),
            self.rpt_money(F.coalesce(F.col("payment_amount_rpt"), _zero())).alias("payment_amount_rpt"),
            F.coalesce(F.col("channels_used"), F.lit(0)).cast(T.IntegerType()).alias("channels_used"),
            F.greatest(F.col("last_txn_at"), F.col("last_payment_at")).alias("last_activity_at"),
        )

    def payments_summary(self) -> DataFrame:
        # Every status has its own row; amount_rpt is the exact sum rounded once.
        return self.with_rate(self.feed("payments")).groupBy("rail", "currency", "status").agg(
            F.count(F.lit(1)).cast(T.IntegerType()).alias("payment_count"),
            F.sum("amount").cast(MONEY).alias("amount"),
            self.rpt_money(F.sum("amount_rpt_exact")).alias("amount_rpt"),
        ).select(self._business_date(), "rail", "currency", "status", "payment_count", "amount", "amount_rpt")

    def risk_alerts(self) -> DataFrame:
        large = decimal_literal(self.thresholds["largeValueRpt"])
        threshold = decimal_literal(self.thresholds["structuringThresholdRpt"])
        band_low = decimal_literal(
            Decimal(str(self.thresholds["structuringBandLow"])) * Decimal(str(self.thresholds["structuringThresholdRpt"]))
        )
        min_count = int(self.thresholds["structuringMinCount"])

        def large_value(frame: DataFrame, id_col: str, account_col: str) -> DataFrame:
            return frame.filter(F.col("amount_rpt") >= large).select(
                F.concat(F.lit("LV-"), F.col(id_col)).alias("alert_id"),
                F.lit("LARGE_VALUE").alias("alert_type"),
                F.col(account_col).alias("account_id"),
                "customer_id",
                F.col("amount_rpt").cast(MONEY).alias("amount_rpt"),
                F.lit(1).alias("item_count"),
                F.col(id_col).alias("reference"),
            )

        txns = self.enriched_transactions()
        structuring = (
            txns.filter(
                (F.col("direction") == "CREDIT")
                & F.col("channel").isin("ATM", "BRANCH")
                & (F.col("amount_rpt") >= band_low)
                & (F.col("amount_rpt") < threshold)
            )
            .groupBy("account_id", "customer_id")
            .agg(
                F.count(F.lit(1)).alias("item_count"),
                F.sum("amount_rpt").alias("amount_rpt"),
                F.array_join(F.array_sort(F.collect_list("txn_id")), ";").alias("reference"),
            )
            .filter((F.col("item_count") >= min_count) & (F.col("amount_rpt") >= threshold))
            .select(
                F.concat(F.lit("ST-"), F.col("account_id")).alias("alert_id"),
                F.lit("STRUCTURING").alias("alert_type"),
                "account_id",
                "customer_id",
                F.col("amount_rpt").cast(MONEY).alias("amount_rpt"),
                "item_count",
                "reference",
            )
        )
        alerts = (
            large_value(txns, "txn_id", "account_id")
            .unionByName(large_value(self.enriched_payments(), "payment_id", "debtor_account_id"))
            .unionByName(structuring)
        )
        return alerts.select(
            self._business_date(),
            "alert_id",
            "alert_type",
            "account_id",
            "customer_id",
            "amount_rpt",
            F.col("item_count").cast(T.IntegerType()).alias("item_count"),
            "reference",
        )

    def onboarding_funnel(self) -> DataFrame:
        customers_feed = cat.feed_by_name(self.catalog, "customers")
        stages = list(cat.column(customers_feed, "onboarding_stage")["type"]["values"])
        stage_table = literal_frame(
            self.spark,
            [(s, i) for i, s in enumerate(stages, start=1)],
            T.StructType([T.StructField("stage", T.StringType()), T.StructField("stage_order", T.IntegerType())]),
        )
        reached_order = F.lit(0)
        for i, s in enumerate(stages, start=1):
            reached_order = F.when(F.col("onboarding_stage") == s, F.lit(i)).otherwise(reached_order)
        onboarded = self.feed("customers").filter(
            F.to_date(F.col("onboarded_at")) == F.lit(self.business_date).cast(T.DateType())
        ).select("channel", reached_order.alias("reached"))
        channels = onboarded.select("channel").distinct()
        grid = channels.crossJoin(F.broadcast(stage_table))
        counts = (
            onboarded.join(F.broadcast(stage_table), F.col("reached") >= F.col("stage_order"))
            .groupBy("channel", "stage_order")
            .agg(F.count(F.lit(1)).alias("customers"))
        )
        funnel = grid.join(counts, ["channel", "stage_order"], "left").withColumn(
            "customers", F.coalesce(F.col("customers"), F.lit(0)).cast(T.LongType())
        )
        previous = F.lag("customers").over(Window.partitionBy("channel").orderBy("stage_order"))
        # customers / previous rounded half-up to 6 decimals, in exact integer arithmetic.
        micro = F.expr("(customers * 2000000 + _nj_previous) div (2 * _nj_previous)")
        conversion = F.when(
            F.col("_nj_previous").isNotNull() & (F.col("_nj_previous") > 0),
            (micro.cast(T.DecimalType(20, 0)) / F.lit(1000000).cast(T.DecimalType(7, 0))).cast(T.DecimalType(12, 6)),
        )
        return funnel.withColumn("_nj_previous", previous).select(
            self._business_date(),
            "channel",
            "stage",
            F.col("stage_order").cast(T.IntegerType()).alias("stage_order"),
            F.col("customers").cast(T.IntegerType()).alias("customers"),
            conversion.alias("conversion_from_previous"),
        )

    def builders(self) -> dict[str, Callable[[], DataFrame]]:
        return {
            "eod_balances": self.eod_balances,
            "customer_activity": self.customer_activity,
            "payments_summary": self.payments_summary,
            "risk_alerts": self.risk_alerts,
            "onboarding_funnel": self.onboarding_funnel,
        }


def format_column(name: str, sql_type: str) -> Column:
    """A report column as the text written to CSV (null stays null and is written empty)."""
    col = F.col(name)
    if sql_type == "date":
        return F.date_format(col, DATE_FORMAT).alias(name)
    if sql_type == "timestamptz":
        return F.date_format(col, TIMESTAMP_OUTPUT_FORMAT).alias(name)
    if sql_type.startswith("numeric(") and sql_type.endswith(")"):
        precision, scale = (int(x) for x in sql_type[len("numeric("):-1].split(","))
        return col.cast(T.DecimalType(precision, scale)).cast(T.StringType()).alias(name)
    if sql_type in ("integer", "bigint"):
        return col.cast(T.LongType()).cast(T.StringType()).alias(name)
    if sql_type == "text":
        return col.cast(T.StringType()).alias(name)
    raise ValueError(f"column {name}: unsupported report type '{sql_type}'")


def shape_report(frame: DataFrame, report: dict[str, Any]) -> DataFrame:
    """Columns exactly as the report spec, one partition sorted by the primary key."""
    names = [c["name"] for c in report["columns"]]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"report {report['name']}: the job does not produce columns {missing}")
    pk = list(report.get("primaryKey") or names)
    return (
        frame.repartition(1)
        .sortWithinPartitions(*pk)
        .select(*[format_column(c["name"], c["type"]) for c in report["columns"]])
    )


def run_transform(spark: SparkSession, spec: dict[str, Any]) -> dict[str, Any]:
    """Runs the transform job for `spec`; returns the result object (not yet written)."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    reports: list[dict[str, Any]] = list(spec.get("reports") or [])
    builder = ReportBuilder(spark, spec)
    known = builder.builders()
    unknown = [r["name"] for r in reports if r["name"] not in known]
    if unknown:
        raise ValueError(f"reports this job cannot build: {unknown}")
    output_uri = spec["outputUri"]
    at_once = steps_at_once(spec)

    def one_report(index: int) -> dict[str, Any]:
        report = reports[index]
        name = report["name"]
        progress("transform", report=name, step="build", reportIndex=index + 1, reports=len(reports))
        # One pass per report: the row count is observed while the report is written.
        written = Observation(f"report-{name}")
        frame = shape_report(known[name](), report).observe(written, F.count(F.lit(1)).alias("rows"))
        uri = join_uri(output_uri, name)
        frame.write.mode("overwrite").options(**REPORT_WRITE_OPTIONS).csv(spark_path(uri))
        rows = int(written.get["rows"])
        progress("transform", report=name, step="written", rows=rows, uri=uri)
        return {"report": name, "uri": uri, "rows": rows}

    # The reports read the curated datasets only, never each other: they run side by side.
    keys = [str(i) for i in range(len(reports))]
    produced = run_steps(keys, {}, lambda key: one_report(int(key)), at_once)
    return {"job": "transform", "reports": [produced[k] for k in keys]}
