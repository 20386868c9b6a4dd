/**
 * Reporting tables. Every table is keyed by business date: an export replaces one business
 * date's rows in one transaction. Spark's `transform` job writes one CSV dataset per
 * `source: 'spark'` table with exactly these columns in this order (header included);
 * `source: 'pipeline'` tables are written by the pipeline itself from the run manifest.
 */

export type SqlType = 'date' | 'text' | 'integer' | 'bigint' | 'numeric(20,2)' | 'numeric(12,6)' | 'timestamptz';

export interface ReportColumn {
  readonly name: string;
  readonly type: SqlType;
  readonly nullable?: boolean;
}

export type ReportName =
  | 'eod_balances'
  | 'customer_activity'
  | 'payments_summary'
  | 'risk_alerts'
  | 'onboarding_funnel'
  | 'pipeline_runs'
  | 'feed_quality';

export interface ReportSpec {
  readonly name: ReportName;
  /** The PostgreSQL table, in the reporting schema. */
  readonly table: string;
  readonly audience: string;
  readonly source: 'spark' | 'pipeline';
  readonly columns: readonly ReportColumn[];
  readonly primaryKey: readonly string[];
}

export const REPORTING_SCHEMA = 'reporting';

export const REPORTS: readonly ReportSpec[] = [
  {
    name: 'eod_balances',
    table: 'eod_account_balances',
    audience: 'finance / customer analytics',
    source: 'spark',
    primaryKey: ['business_date', 'account_id'],
    columns: [
      { name: 'business_date', type: 'date' },
      { name: 'account_id', type: 'text' },
      { name: 'customer_id', type: 'text' },
      { name: 'product', type: 'text' },
      { name: 'currency', type: 'text' },
      { name: 'opening_balance', type: 'numeric(20,2)' },
      { name: 'credits', type: 'numeric(20,2)' },
      { name: 'debits', type: 'numeric(20,2)' },
      { name: 'closing_balance', type: 'numeric(20,2)' },
      { name: 'closing_balance_rpt', type: 'numeric(20,2)' },
      { name: 'txn_count', type: 'integer' },
    ],
  },
  {
    name: 'customer_activity',
    table: 'customer_daily_activity',
    audience: 'customer analytics',
    source: 'spark',
    primaryKey: ['business_date', 'customer_id'],
    columns: [
      { name: 'business_date', type: 'date' },
      { name: 'customer_id', type: 'text' },
      { name: 'segment', type: 'text' },
      { name: 'txn_count', type: 'integer' },
      { name: 'txn_amount_rpt', type: 'numeric(20,2)' },
      { name: 'payment_count', type: 'integer' },
      { name: 'payment_amount_rpt', type: 'numeric(20,2)' },
      { name: 'channels_used', type: 'integer' },
      { name: 'last_activity_at', type: 'timestamptz', nullable: true },
    ],
  },
  {
    name: 'payments_summary',
    table: 'payments_daily_summary',
    audience: 'business reporting / payments operations',
    source: 'spark',
    primaryKey: ['business_date', 'rail', 'currency', 'status'],
    columns: [
      { name: 'business_date', type: 'date' },
      { name: 'rail', type: 'text' },
      { name: 'currency', type: 'text' },
      { name: 'status', type: 'text' },
      { name: 'payment_count', type: 'integer' },
      { name: 'amount', type: 'numeric(20,2)' },
      { name: 'amount_rpt', type: 'numeric(20,2)' },
    ],
  },
  {
    name: 'risk_alerts',
    table: 'risk_alerts',
    audience: 'risk / AML',
    source: 'spark',
    primaryKey: ['business_date', 'alert_id'],
    columns: [
      { name: 'business_date', type: 'date' },
      { name: 'alert_id', type: 'text' },
      { name: 'alert_type', type: 'text' },
      { name: 'account_id', type: 'text' },
      { name: 'customer_id', type: 'text' },
      { name: 'amount_rpt', type: 'numeric(20,2)' },
      { name: 'item_count', type: 'integer' },
      { name: 'reference', type: 'text' },
    ],
  },
  {
    name: 'onboarding_funnel',
    table: 'onboarding_funnel',
    audience: 'business reporting / onboarding',
    source: 'spark',
    primaryKey: ['business_date', 'channel', 'stage'],
    columns: [
      { name: 'business_date', type: 'date' },
      { name: 'channel', type: 'text' },
      { name: 'stage', type: 'text' },
      { name: 'stage_order', type: 'integer' },
      { name: 'customers', type: 'integer' },
      { name: 'conversion_from_previous', type: 'numeric(12,6)', nullable: true },
    ],
  },
  {
    name: 'pipeline_runs',
    table: 'pipeline_step_metrics',
    audience: 'operations',
    source: 'pipeline',
    primaryKey: ['business_date', 'step'],
    columns: [
      { name: 'business_date', type: 'date' },
      { name: 'step', type: 'text' },
      { name: 'workflow_id', type: 'text' },
      { name: 'status', type: 'text' },
      { name: 'attempts', type: 'integer' },
      { name: 'started_at', type: 'timestamptz' },
      { name: 'finished_at', type: 'timestamptz' },
      { name: 'duration_ms', type: 'bigint' },
      { name: 'final_resources', type: 'text', nullable: true },
    ],
  },
  {
    name: 'feed_quality',
    table: 'feed_quality',
    audience: 'operations / data quality',
    source: 'pipeline',
    primaryKey: ['business_date', 'feed'],
    columns: [
      { name: 'business_date', type: 'date' },
      { name: 'feed', type: 'text' },
      { name: 'rows_in', type: 'bigint' },
      { name: 'rows_accepted', type: 'bigint' },
      { name: 'rows_rejected', type: 'bigint' },
      { name: 'control_count', type: 'bigint' },
      { name: 'control_sum', type: 'text' },
      { name: 'sha256', type: 'text' },
      // The control column's sum over accepted rows and over rejects (accepted + rejected =
      // control_sum); empty when normalize did not run. Added later, hence nullable.
      { name: 'amount_accepted', type: 'text', nullable: true },
      { name: 'amount_rejected', type: 'text', nullable: true },
    ],
  },
];

export const SPARK_REPORTS = REPORTS.filter((r) => r.source === 'spark');

export function reportSpec(name: ReportName): ReportSpec {
  const spec = REPORTS.find((r) => r.name === name);
  if (!spec) throw new Error(`unknown report '${name}'`);
  return spec;
}
