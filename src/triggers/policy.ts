/**
 * What a deployment's doors admit: the tenants it serves (a night of any other tenant is refused
 * at every door, never started on this deployment's task queue), the business dates a trigger may
 * name (a window around today in the tenant's zone) and the Spark resources an override may ask
 * for (the caps escalation stops at). The HTTP API, the Kafka bridge, the CLI and the nightly
 * trigger all go through `TemporalNightTriggers`, which applies it; the HTTP API applies it first
 * too, so its refusals name the field and the OpenAPI document can state the same rules.
 */
import type { NightjarConfig } from '../config/config';
import { businessDateOutsideWindow, sparkOverridesWithin, type BusinessDateWindow, type OverrideCaps } from '../domain/bounds';
import { localDate } from '../domain/calendar';
import type { SparkOverrides } from '../domain/pipeline';
import type { SparkJobName } from '../domain/spark/resources';
import { describeIssues } from '../domain/triggers';
import { TriggerRejected } from './errors';

export interface TriggerPolicy {
  /** The tenants this deployment serves (their nights run on its task queue). */
  readonly tenants: readonly string[];
  readonly window: BusinessDateWindow;
  readonly caps: Readonly<Record<SparkJobName, OverrideCaps>>;
  /** Today's date in the tenant's time zone (YYYY-MM-DD). */
  today(): string;
}

/** The policy of a deployment, from its configuration: its one tenant, its window and its caps. */
export function triggerPolicy(config: Pick<NightjarConfig, 'tenant' | 'businessDates' | 'spark' | 'calendar'>, now: () => number = Date.now): TriggerPolicy {
  return {
    tenants: [config.tenant],
    window: config.businessDates,
    caps: config.spark.escalationByJob,
    today: () => localDate(config.calendar, now()),
  };
}

export const TriggerRefusal = {
  TenantNotServed: 'TENANT_NOT_SERVED',
  OutOfWindow: 'BUSINESS_DATE_OUT_OF_WINDOW',
  OverridesOutOfBounds: 'OVERRIDES_OUT_OF_BOUNDS',
} as const;

/** Why this deployment does not serve `tenant`, or undefined when it does. */
export function tenantRefusal(policy: TriggerPolicy, tenant: string): TriggerRejected | undefined {
  if (policy.tenants.includes(tenant)) return undefined;
  return new TriggerRejected({
    code: TriggerRefusal.TenantNotServed,
    status: 404,
    message: `tenant '${tenant}' is not served here (this deployment serves ${policy.tenants.map((t) => `'${t}'`).join(', ')})`,
  });
}

/**
 * Refuses a night this deployment must not start or signal: another tenant's (404), a date outside
 * the window (422), overrides above the caps (422). Every door calls it before Temporal.
 */
export function admitNight(policy: TriggerPolicy, night: { readonly tenant: string; readonly businessDate: string; readonly sparkOverrides?: SparkOverrides }): void {
  const foreign = tenantRefusal(policy, night.tenant);
  if (foreign) throw foreign;
  const outside = businessDateOutsideWindow(night.businessDate, policy.window, policy.today());
  if (outside !== undefined) {
    throw new TriggerRejected({ code: TriggerRefusal.OutOfWindow, status: 422, message: `businessDate ${night.businessDate}: ${outside}` });
  }
  if (night.sparkOverrides !== undefined) {
    const checked = sparkOverridesWithin(policy.caps).safeParse(night.sparkOverrides);
    if (!checked.success) {
      throw new TriggerRejected({ code: TriggerRefusal.OverridesOutOfBounds, status: 422, message: `sparkOverrides: ${describeIssues(checked.error)}` });
    }
  }
}
