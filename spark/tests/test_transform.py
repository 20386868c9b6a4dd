"""transform on the tiny dataset: every report checked by hand, determinism, result."""
from __future__ import annotations

from decimal import Decimal

from nightjar_spark.transform import run_transform

from .conftest import BUSINESS_DATE, csv_rows, read_csv_dataset, transform_spec

D = BUSINESS_DATE


def report_dir(transformed, name):
    _, out = transformed
    return out / name


def rows(transformed, name):
    return [list(r.values()) for r in csv_rows(report_dir(transformed, name))]


def test_result_lists_reports_with_row_counts(transformed, spark_reports):
    result, out = transformed
    assert result["job"] == "transform"
    assert [r["report"] for r in result["reports"]] == [r["name"] for r in spark_reports]
    for produced in result["reports"]:
        assert produced["uri"] == (out / produced["report"]).as_uri()
        assert produced["rows"] == len(csv_rows(out / produced["report"]))


def test_headers_are_exactly_the_report_columns(transformed, spark_reports):
    for report in spark_reports:
        text = read_csv_dataset(report_dir(transformed, report["name"]))
        assert text.split("\n", 1)[0] == ",".join(c["name"] for c in report["columns"])


def test_eod_balances(transformed):
    assert rows(transformed, "eod_balances") == [
        # A1 (EUR): +100.00; -(10.01 USD = 9.21 EUR) -(0.50 GBP = 0.59 EUR)
        [D, "A00000001", "C0000001", "CURRENT", "EUR", "1000.00", "100.00", "9.80", "1090.20", "1090.20", "3"],
        # A2 (USD @0.92): +200.00 USD; -(50.00 EUR = 50.00/0.92 = 54.35 USD); closing 646.15 x 0.92 = 594.458
        [D, "A00000002", "C0000002", "SAVINGS", "USD", "500.50", "200.00", "54.35", "646.15", "594.46", "2"],
        # A3 (GBP @1.17): every EUR amount / 1.17, rounded per transaction
        [D, "A00000003", "C0000003", "CURRENT", "GBP", "-20.00", "46581.19", "8119.66", "38441.53", "44976.59", "7"],
        # no transactions: still listed
        [D, "A00000009", "C0000011", "SAVINGS", "EUR", "250.00", "0.00", "0.00", "250.00", "250.00", "0"],
    ]


def test_customer_activity(transformed):
    assert rows(transformed, "customer_activity") == [
        # gross: 100.00 + 10.01 USD x 0.92 (9.2092) + 0.50 GBP x 1.17 (0.585) = 109.7942, rounded once
        [D, "C0000001", "RETAIL", "3", "109.79", "2", "350.10", "3", "2026-11-20T12:30:00Z"],
        # its only payment was REJECTED: not activity (neither counted nor its 12:00 a last activity)
        [D, "C0000002", "SME", "2", "234.00", "0", "0.00", "2", "2026-11-20T09:30:00Z"],
        [D, "C0000003", "PRIVATE", "7", "63999.98", "0", "0.00", "3", "2026-11-20T14:00:00Z"],
        # payments only
        [D, "C0000011", "SME", "0", "0.00", "1", "18400.00", "0", "2026-11-20T07:30:00Z"],
    ]


def test_payments_summary(transformed):
    assert rows(transformed, "payments_summary") == [
        [D, "SEPA_INST", "USD", "REJECTED", "1", "10.00", "9.20"],
        [D, "SEPA_SCT", "EUR", "SETTLED", "2", "350.10", "350.10"],
        [D, "SWIFT", "USD", "PENDING", "1", "20000.00", "18400.00"],
    ]


def test_risk_alerts(transformed):
    assert rows(transformed, "risk_alerts") == [
        [D, "LV-P000000002", "LARGE_VALUE", "A00000009", "C0000011", "18400.00", "1", "P000000002"],
        # exactly the threshold counts as large
        [D, "LV-T000000009", "LARGE_VALUE", "A00000003", "C0000003", "10000.00", "1", "T000000009"],
        # 9999.99 + 9000.00 + 8000.00 (band low inclusive); 10000.00, 7999.99, the ONLINE credit
        # and the BRANCH debit are out
        [D, "ST-A00000003", "STRUCTURING", "A00000003", "C0000003", "26999.99", "3", "T000000006;T000000007;T000000008"],
    ]


def test_onboarding_funnel(transformed):
    # Onboarded on the business date: ONLINE reached ACTIVE, KYC_CHECKED, APPROVED;
    # BRANCH reached APPLIED, KYC_CHECKED. (C0000010 was onboarded the day before.) MOBILE onboarded
    # nobody that day: a channel without customers has no rows at all.
    assert rows(transformed, "onboarding_funnel") == [
        [D, "BRANCH", "ACTIVE", "5", "0", ""],  # previous stage has 0 customers: null
        [D, "BRANCH", "APPLIED", "1", "2", ""],
        [D, "BRANCH", "APPROVED", "4", "0", "0.000000"],
        [D, "BRANCH", "DOCUMENTS_SUBMITTED", "2", "1", "0.500000"],
        [D, "BRANCH", "KYC_CHECKED", "3", "1", "1.000000"],
        [D, "ONLINE", "ACTIVE", "5", "1", "0.500000"],
        [D, "ONLINE", "APPLIED", "1", "3", ""],
        [D, "ONLINE", "APPROVED", "4", "2", "0.666667"],
        [D, "ONLINE", "DOCUMENTS_SUBMITTED", "2", "3", "1.000000"],
        [D, "ONLINE", "KYC_CHECKED", "3", "3", "1.000000"],
    ]


def test_nulls_are_written_as_empty_fields(transformed):
    text = read_csv_dataset(report_dir(transformed, "onboarding_funnel"))
    assert f"{D},BRANCH,APPLIED,1,2,\n" in text
    assert '""' not in text


def test_same_input_gives_the_same_bytes(spark, catalog, spark_reports, normalized, transformed, tmp_path):
    result, _, _ = normalized
    curated = {f["feed"]: f["curatedUri"] for f in result["feeds"]}
    again = tmp_path / "again"
    run_transform(spark, transform_spec(catalog, spark_reports, curated, again, attempt="test-transform-a2"))
    _, first = transformed
    for report in spark_reports:
        assert read_csv_dataset(again / report["name"]).encode() == read_csv_dataset(first / report["name"]).encode()


def test_fixture_reports_mirror_the_typescript_catalog(spark_reports):
    """spark-reports.json must follow SPARK_REPORTS in src/domain/reports/catalog.ts."""
    from .conftest import REPO

    source = (REPO / "src" / "domain" / "reports" / "catalog.ts").read_text()
    position = 0
    for report in spark_reports:
        position = source.index(f"name: '{report['name']}'", position)
        assert source.index("source: 'spark'", position) < source.index("columns:", position)
        for col in report["columns"]:
            position = source.index(f"{{ name: '{col['name']}', type: '{col['type']}'", position)


def test_absent_feed_is_an_empty_dataset(spark, catalog, spark_reports, normalized, tmp_path):
    result, _, _ = normalized
    curated = {f["feed"]: f["curatedUri"] for f in result["feeds"] if f["feed"] != "payments"}
    reports = [r for r in spark_reports if r["name"] in ("payments_summary", "customer_activity")]
    produced = run_transform(spark, transform_spec(catalog, reports, curated, tmp_path / "out"))
    assert {r["report"]: r["rows"] for r in produced["reports"]} == {"customer_activity": 3, "payments_summary": 0}
    assert read_csv_dataset(tmp_path / "out" / "payments_summary") == (
        "business_date,rail,currency,status,payment_count,amount,amount_rpt\n"
    )


def _curated(spark, catalog, tmp_path, feed_name, rows):
    """Writes `rows` (dicts of typed values) as a feed's curated Parquet; returns its URI."""
    from nightjar_spark import catalog as cat

    schema = cat.curated_schema(cat.feed_by_name(catalog, feed_name))
    full = [tuple(r.get(f.name, i + 2 if f.name == "line_no" else None) for f in schema.fields) for i, r in enumerate(rows)]
    path = tmp_path / "curated" / feed_name
    spark.createDataFrame(full, schema).write.mode("overwrite").parquet(str(path))
    return path.as_uri()


def test_cross_currency_postings_convert_once_and_round_once(spark, catalog, spark_reports, tmp_path):
    """amount x rate(C) / rate(A), rounded once half-up to A's minor unit; JPY has none."""
    from datetime import datetime, timezone

    D0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    dec = Decimal
    rates = [("USD", "0.92000000"), ("HUF", "0.00250000"), ("JPY", "0.00612345")]
    fx = [{"currency": c, "rate_date": D0.date(), "rate": dec(r), "source": "ECB"} for c, r in rates]
    accounts = [
        {"account_id": "A00000001", "customer_id": "C0000001", "product": "CURRENT", "currency": "HUF", "opening_balance": dec("1000.00")},
        {"account_id": "A00000002", "customer_id": "C0000001", "product": "CURRENT", "currency": "JPY", "opening_balance": dec("5000.00")},
        {"account_id": "A00000003", "customer_id": "C0000001", "product": "CURRENT", "currency": "EUR", "opening_balance": dec("0.00")},
    ]

    def txn(i, account, direction, amount, currency, rate):
        exact = dec(amount) * dec(rate)
        return {"txn_id": f"T00000000{i}", "account_id": account, "booked_at": D0, "direction": direction, "amount": dec(amount),
                "currency": currency, "channel": "POS", "amount_rpt": exact.quantize(dec("0.01"), rounding="ROUND_HALF_UP")}

    txns = [
        txn(1, "A00000001", "CREDIT", "1.01", "USD", "0.92"),  # 1.01 x 0.92 / 0.0025 = 371.68 (via 0.93 EUR: 372.00)
        txn(2, "A00000002", "CREDIT", "100.00", "USD", "0.92"),  # 92 / 0.00612345 = 15024.29 -> 15024 (no decimals)
        txn(3, "A00000002", "DEBIT", "1.00", "EUR", "1"),  # 1 / 0.00612345 = 163.31 -> 163
        txn(4, "A00000003", "DEBIT", "0.01", "HUF", "0.0025"),  # 0.000025 EUR -> 0.00
    ]
    inputs = {
        "fx_rates": _curated(spark, catalog, tmp_path, "fx_rates", fx),
        "accounts": _curated(spark, catalog, tmp_path, "accounts", accounts),
        "transactions": _curated(spark, catalog, tmp_path, "transactions", txns),
    }
    reports = [r for r in spark_reports if r["name"] == "eod_balances"]
    run_transform(spark, transform_spec(catalog, reports, inputs, tmp_path / "out"))
    assert [list(r.values()) for r in csv_rows(tmp_path / "out" / "eod_balances")] == [
        # closing 1371.68 HUF x 0.0025 = 3.4292 EUR
        [D, "A00000001", "C0000001", "CURRENT", "HUF", "1000.00", "371.68", "0.00", "1371.68", "3.43", "1"],
        # closing 5000 + 15024 - 163 = 19861 JPY x 0.00612345 = 121.6178... EUR
        [D, "A00000002", "C0000001", "CURRENT", "JPY", "5000.00", "15024.00", "163.00", "19861.00", "121.62", "2"],
        [D, "A00000003", "C0000001", "CURRENT", "EUR", "0.00", "0.00", "0.00", "0.00", "0.00", "1"],
    ]


def test_reporting_sums_are_exact_sums_rounded_once(spark, catalog, spark_reports, tmp_path):
    """Two 0.01 USD payments at 0.5: each line is 0.005 (0.01 rounded), the exact sum 0.01."""
    from datetime import datetime, timezone

    D0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    fx = [{"currency": "USD", "rate_date": D0.date(), "rate": Decimal("0.5"), "source": "ECB"}]
    accounts = [{"account_id": "A00000001", "customer_id": "C0000001", "product": "CURRENT", "currency": "EUR", "opening_balance": Decimal(0)}]
    payments = [
        {"payment_id": f"P00000000{i}", "debtor_account_id": "A00000001", "rail": "SWIFT", "status": status,
         "amount": Decimal("0.01"), "currency": "USD", "initiated_at": D0, "amount_rpt": Decimal("0.01")}
        for i, status in enumerate(["SETTLED", "SETTLED", "REJECTED", "RETURNED", "PENDING"], start=1)
    ]
    inputs = {
        "fx_rates": _curated(spark, catalog, tmp_path, "fx_rates", fx),
        "accounts": _curated(spark, catalog, tmp_path, "accounts", accounts),
        "payments": _curated(spark, catalog, tmp_path, "payments", payments),
    }
    names = ("payments_summary", "customer_activity", "risk_alerts")
    reports = [r for r in spark_reports if r["name"] in names]
    thresholds = {"largeValueRpt": "0.01"}
    spec = {**transform_spec(catalog, reports, inputs, tmp_path / "out"), "thresholds": thresholds}
    run_transform(spark, spec)
    assert [list(r.values()) for r in csv_rows(tmp_path / "out" / "payments_summary")] == [
        [D, "SWIFT", "USD", "PENDING", "1", "0.01", "0.01"],  # 0.005 rounds half-up
        [D, "SWIFT", "USD", "REJECTED", "1", "0.01", "0.01"],
        [D, "SWIFT", "USD", "RETURNED", "1", "0.01", "0.01"],
        [D, "SWIFT", "USD", "SETTLED", "2", "0.02", "0.01"],  # 0.005 + 0.005, not 0.01 + 0.01
    ]
    # Customer activity counts the payments whose money moved or is moving: SETTLED and PENDING.
    # 3 x 0.005 = 0.015 -> 0.02 (the rounded lines would say 0.03).
    assert [list(r.values()) for r in csv_rows(tmp_path / "out" / "customer_activity")] == [
        [D, "C0000001", "", "0", "0.00", "3", "0.02", "0", "2026-11-20T10:00:00Z"],
    ]
    # Large-value alerts look at every status: an attempted (rejected or returned) payment is a risk signal too.
    alerts = [r["alert_id"] for r in csv_rows(tmp_path / "out" / "risk_alerts")]
    assert alerts == [f"LV-P00000000{i}" for i in range(1, 6)]
