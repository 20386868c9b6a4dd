"""normalize on the hand-written tiny feeds (test/fixtures/spark/tiny)."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import types as T

from nightjar_spark.normalize import ContractError, run_normalize

from .conftest import FIXTURES, normalize_spec, partitions_read, read_csv_dataset

EXPECTED_REJECTS = {
    "customers": [
        (5, "INVALID_FORMAT:date_of_birth"),
        (6, "DUPLICATE_KEY:customer_id"),
        (7, "INVALID_FORMAT:customer_id"),
        (8, "MISSING_VALUE:full_name"),
        (9, "MALFORMED_RECORD:quoting"),
        (10, "MALFORMED_RECORD:field_count"),
        (11, "INVALID_FORMAT:segment"),
        (12, "INVALID_FORMAT:onboarded_at"),
        (15, "INVALID_FORMAT:date_of_birth"),
    ],
    "fx_rates": [
        (4, "WRONG_BUSINESS_DATE:rate_date"),
        (5, "UNKNOWN_CURRENCY:currency"),
        (6, "OUT_OF_RANGE:rate"),
        (7, "DUPLICATE_KEY:currency"),
        (8, "INVALID_FORMAT:rate"),
    ],
    "accounts": [
        (5, "UNKNOWN_REFERENCE:customer_id"),
        (6, "UNKNOWN_REFERENCE:customer_id"),
        (7, "NO_FX_RATE:currency"),
        (8, "INVALID_FORMAT:opening_balance"),
        (9, "INVALID_FORMAT:opening_balance"),
    ],
    "transactions": [
        (14, "WRONG_BUSINESS_DATE:booked_at"),
        (15, "UNKNOWN_REFERENCE:account_id"),
        (16, "OUT_OF_RANGE:amount"),
        (17, "NO_FX_RATE:currency"),
        (18, "UNKNOWN_CURRENCY:currency"),
        (19, "DUPLICATE_KEY:txn_id"),
        (20, "INVALID_FORMAT:merchant_category"),
        (21, "MISSING_VALUE:direction"),
        (22, "INVALID_FORMAT:txn_id"),
        (23, "UNKNOWN_CURRENCY:currency"),  # rule 2 beats the wrong business date (rule 3)
        (24, "MALFORMED_RECORD:field_count"),  # an empty line
    ],
    "payments": [
        (6, "UNKNOWN_REFERENCE:debtor_account_id"),
        (7, "INVALID_FORMAT:status"),
    ],
}
EXPECTED_COUNTS = {
    # feed: (rowsIn, accepted, rejected)
    "customers": (15, 6, 9),
    "accounts": (9, 4, 5),
    "transactions": (23, 12, 11),
    "payments": (6, 4, 2),
    "fx_rates": (8, 3, 5),
}


def feed_result(result, name):
    return next(f for f in result["feeds"] if f["feed"] == name)


def rejects(out: Path, feed: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read_csv_dataset(out / "rejects" / feed))))


def test_result_lists_feeds_in_catalog_order_with_counts(normalized):
    result, out, _ = normalized
    assert result["job"] == "normalize"
    assert [f["feed"] for f in result["feeds"]] == ["customers", "accounts", "transactions", "payments", "fx_rates"]
    for feed in result["feeds"]:
        rows_in, accepted, rejected = EXPECTED_COUNTS[feed["feed"]]
        assert (feed["rowsIn"], feed["rowsAccepted"], feed["rowsRejected"]) == (rows_in, accepted, rejected)
        assert feed["rowsAccepted"] + feed["rowsRejected"] == feed["rowsIn"]
        assert sum(feed["rejectReasons"].values()) == feed["rowsRejected"]
        assert feed["curatedUri"] == (out / feed["feed"]).as_uri()
        assert feed["rejectsUri"] == (out / "rejects" / feed["feed"]).as_uri()
    assert feed_result(result, "transactions")["rejectReasons"] == {
        "DUPLICATE_KEY": 1,
        "INVALID_FORMAT": 2,
        "MALFORMED_RECORD": 1,
        "MISSING_VALUE": 1,
        "NO_FX_RATE": 1,
        "OUT_OF_RANGE": 1,
        "UNKNOWN_CURRENCY": 2,
        "UNKNOWN_REFERENCE": 1,
        "WRONG_BUSINESS_DATE": 1,
    }


@pytest.mark.parametrize("feed", sorted(EXPECTED_REJECTS))
def test_each_reject_has_its_reason_and_exact_line_number(normalized, feed):
    _, out, raw = normalized
    rows = rejects(out, feed)
    assert [(int(r["line_no"]), r["reason"]) for r in rows] == EXPECTED_REJECTS[feed]
    # record = the raw line, byte for byte (without its line terminator)
    physical = raw[feed].read_bytes().decode("utf-8").replace("\r\n", "\n").split("\n")
    for r in rows:
        assert r["record"] == physical[int(r["line_no"]) - 1]


def test_rejects_csv_format(normalized):
    _, out, _ = normalized
    text = read_csv_dataset(out / "rejects" / "customers")
    assert text.startswith("line_no,reason,record\n")
    # quotes in the raw line are doubled (RFC 4180), no backslash escaping, LF line ends
    assert '9,MALFORMED_RECORD:quoting,"C0000006,""Fay,1980-01-01' in text
    assert "\\" not in text and "\r" not in text


def test_crlf_feed_keeps_records_without_carriage_returns(normalized, spark):
    _, out, raw = normalized
    assert b"\r\n" in raw["customers"].read_bytes()
    accepted = spark.read.parquet(str(out / "customers")).orderBy("line_no").collect()
    assert [(r.customer_id, r.line_no) for r in accepted] == [
        ("C0000001", 2),
        ("C0000002", 3),
        ("C0000003", 4),
        ("C0000010", 13),
        ("C0000011", 14),
        ("C0000012", 16),
    ]
    assert accepted[-1].onboarded_at.isoformat() == "2026-11-20T08:00:00"
    assert accepted[1].full_name == "Bob, Jr."
    assert accepted[1].email is None


def test_dedup_lowest_line_wins(normalized, spark):
    _, out, _ = normalized
    customers = {r.customer_id: r for r in spark.read.parquet(str(out / "customers")).collect()}
    assert customers["C0000001"].full_name == "Ann Example" and customers["C0000001"].line_no == 2
    # the first C0000012 line is invalid, so the valid later line is the one that counts
    assert customers["C0000012"].line_no == 16
    fx = {r.currency: r for r in spark.read.parquet(str(out / "fx_rates")).collect()}
    assert fx["USD"].rate == Decimal("0.92000000") and fx["USD"].line_no == 2


def test_references_check_accepted_rows_of_the_referenced_feed(normalized, spark):
    _, out, _ = normalized
    accounts = sorted(r.account_id for r in spark.read.parquet(str(out / "accounts")).collect())
    assert accounts == ["A00000001", "A00000002", "A00000003", "A00000009"]
    # A00000005 references C0000004, which exists in the file but was rejected
    payments = sorted(r.payment_id for r in spark.read.parquet(str(out / "payments")).collect())
    assert payments == ["P000000001", "P000000002", "P000000003", "P000000004"]


def test_curated_parquet_is_typed(normalized, spark):
    _, out, _ = normalized
    txns = spark.read.parquet(str(out / "transactions"))
    types = {f.name: f.dataType for f in txns.schema.fields}
    assert types["booked_at"] == T.TimestampType()
    assert types["value_date"] == T.DateType()
    assert types["amount"] == T.DecimalType(18, 2)
    assert types["amount_rpt"] == T.DecimalType(20, 2)
    assert types["line_no"] == T.LongType()
    assert types["merchant_category"] == T.StringType()
    assert list(types)[:10] == [
        "txn_id", "account_id", "booked_at", "value_date", "direction",
        "amount", "currency", "channel", "merchant_category", "description",
    ]
    fx = spark.read.parquet(str(out / "fx_rates"))
    assert {f.name: f.dataType for f in fx.schema.fields}["rate"] == T.DecimalType(18, 8)
    assert "amount_rpt" not in fx.columns
    accounts = spark.read.parquet(str(out / "accounts"))
    assert "amount_rpt" not in accounts.columns
    assert {f.name: f.dataType for f in accounts.schema.fields}["opened_on"] == T.DateType()


def test_fx_conversion_rounds_half_up_in_decimal(normalized, spark):
    _, out, _ = normalized
    txns = {r.txn_id: r for r in spark.read.parquet(str(out / "transactions")).collect()}
    assert txns["T000000001"].amount_rpt == Decimal("100.00")  # reporting currency: rate 1
    assert txns["T000000002"].amount_rpt == Decimal("9.21")  # 10.01 x 0.92 = 9.2092
    assert txns["T000000003"].amount_rpt == Decimal("0.59")  # 0.50 x 1.17 = 0.585: half-up, not 0.58
    assert txns["T000000004"].amount_rpt == Decimal("184.00")
    assert txns["T000000002"].description == 'He said "hi", ok'
    assert txns["T000000001"].merchant_category is None
    payments = {r.payment_id: r for r in spark.read.parquet(str(out / "payments")).collect()}
    assert payments["P000000002"].amount_rpt == Decimal("18400.00")
    assert payments["P000000002"].settled_at is None


def test_reporting_currency_rate_is_always_one(normalized, spark):
    """fx_rates has EUR at 1.10; EUR amounts still convert at 1."""
    _, out, _ = normalized
    fx = {r.currency for r in spark.read.parquet(str(out / "fx_rates")).collect()}
    assert fx == {"USD", "GBP", "EUR"}
    txn = spark.read.parquet(str(out / "transactions")).filter("txn_id = 'T000000005'").first()
    assert txn.amount_rpt == txn.amount == Decimal("50.00")


def test_absent_feed_is_skipped_and_references_to_it_fail(spark, catalog, tmp_path):
    from .conftest import copy_tiny_feeds

    raw = copy_tiny_feeds(tmp_path / "raw", crlf=())
    inputs = {name: raw[name] for name in ("accounts", "fx_rates")}
    result = run_normalize(spark, normalize_spec(catalog, inputs, tmp_path / "out"))
    assert [f["feed"] for f in result["feeds"]] == ["accounts", "fx_rates"]
    accounts = feed_result(result, "accounts")
    assert accounts["rowsAccepted"] == 0
    assert accounts["rejectReasons"] == {"UNKNOWN_REFERENCE": 7, "INVALID_FORMAT": 2}


def test_header_must_be_the_catalog_columns(spark, catalog, tmp_path):
    path = tmp_path / "fx_rates.csv"
    path.write_text("currency,rate,rate_date,source\nUSD,0.9,2026-11-20,ECB\nTRL,1,0.9\n")
    with pytest.raises(ContractError, match="header"):
        run_normalize(spark, normalize_spec(catalog, {"fx_rates": path}, tmp_path / "out"))


def test_fixture_catalog_mirrors_the_typescript_catalog(catalog):
    """The JSON fixture must follow src/domain/feeds/catalog.ts (names and column order)."""
    source = (FIXTURES.parents[2] / "src" / "domain" / "feeds" / "catalog.ts").read_text()
    position = 0
    for feed in catalog:
        position = source.index(f"name: '{feed['name']}'", position)
        for col in feed["columns"]:
            position = source.index(f"name: '{col['name']}'", position)
    json.dumps(catalog)  # serialisable as the spec needs


def test_amounts_accepted_and_held_in_rejects(normalized):
    """The control column over accepted rows (typed) and over rejected lines the trailer counts."""
    result, _, _ = normalized
    amounts = {f["feed"]: (f["amountAccepted"], f["amountRejected"]) for f in result["feeds"]}
    # Rejects: 1.00 + 1.00 - 5.00 (negative amounts count) + 5.00 x 6; 'x' and the empty line add nothing.
    assert amounts["transactions"] == ("64360.49", "27.00")
    # 12.345 has three decimals and adds nothing; 17 integer digits are rejected but counted;
    assert amounts["accounts"] == ("1730.50", "12345678901234577.00")  # + the CHF account's 10.00
    assert amounts["payments"] == ("20360.10", "2.00")
    # USD, GBP and EUR accepted; CHF, XXX, SEK (-0.087) and the second USD rejected; JPY has 9 decimals
    assert amounts["fx_rates"] == ("3.19000000", "2.89300000")
    assert amounts["customers"] == ("0", "0")  # a count-only trailer


def assert_same_outputs(spark, other: tuple[dict, Path], expected: tuple[dict, Path]) -> None:
    """Two normalize runs over the same feeds agree: counts, reasons and money per feed, every
    rejects file, every curated row."""
    (other_result, other_out), (result, out) = other, expected

    def without_uris(r):
        return [{k: v for k, v in f.items() if not k.endswith("Uri")} for f in r["feeds"]]

    assert without_uris(other_result) == without_uris(result)
    for feed in (f["feed"] for f in result["feeds"]):
        assert read_csv_dataset(other_out / "rejects" / feed) == read_csv_dataset(out / "rejects" / feed)
        whole = spark.read.parquet(str(out / feed))
        assert sorted(spark.read.parquet(str(other_out / feed)).collect()) == sorted(whole.collect())


def test_many_partitions_give_the_one_partition_result(normalized, spark, catalog, tmp_path):
    """Files Spark splits (numbered by partition; the rejects write joins the rules again rather
    than reading kept rows) give the same counts, money, rejects and curated rows as files read
    whole (counted from their bytes; rows with every rule kept)."""
    result, out, raw = normalized
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "256")
    try:
        assert partitions_read(spark, raw["transactions"]) > 1
        split_out = tmp_path / "split"
        split = run_normalize(spark, normalize_spec(catalog, raw, split_out, attempt="test-normalize-split"))
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)
    assert_same_outputs(spark, (split, split_out), (result, out))


def test_one_step_at_a_time_gives_the_same_outputs(normalized, spark, catalog, tmp_path):
    """A feed's outputs and counts do not depend on what runs beside it (a retry runs one step
    at a time; a first attempt several)."""
    result, out, raw = normalized
    spec = {**normalize_spec(catalog, raw, tmp_path / "one", attempt="test-normalize-one"), "stepsAtOnce": 1}
    one = run_normalize(spark, spec)
    assert_same_outputs(spark, (one, tmp_path / "one"), (result, out))


def test_a_failed_feed_leaves_nothing_kept(spark, catalog, tmp_path):
    """A feed that fails after keeping its rows releases them, as do the feeds beside it: on a warm
    driver the session outlives the attempt."""
    from nightjar_spark.session import is_connect

    from .conftest import copy_tiny_feeds

    if is_connect(spark):
        pytest.skip("the kept frames are counted through the classic session's JVM")
    raw = copy_tiny_feeds(tmp_path / "raw", crlf=())
    # Every feed's rejects write fails (their directory's parent is a file), after its rows were kept.
    out = tmp_path / "out"
    out.mkdir()
    (out / "rejects").write_text("not a directory")
    kept = spark.sparkContext._jsc.getPersistentRDDs
    before = kept().size()
    with pytest.raises(Exception, match="rejects"):
        run_normalize(spark, normalize_spec(catalog, raw, out))
    assert kept().size() == before
