/**
 * Trigger policies for tests: the tenants a test's deployment serves, a window wide enough for the
 * fixed dates tests use (ten years back, one ahead, around the real today) and the default caps.
 */
import { DEFAULT_ESCALATION } from '../../src/domain/spark/escalation';
import type { TriggerPolicy } from '../../src/triggers/policy';
import type { TriggerTarget } from '../../src/triggers/temporal-triggers';

export const TEST_WINDOW = { pastDays: 3660, futureDays: 366 } as const;

export function testPolicy(tenants: readonly string[] = ['default'], overrides: Partial<TriggerPolicy> = {}): TriggerPolicy {
  return {
    tenants,
    window: TEST_WINDOW,
    caps: { normalize: DEFAULT_ESCALATION, transform: DEFAULT_ESCALATION },
    today: () => new Date().toISOString().slice(0, 10),
    ...overrides,
  };
}

export function testTarget(taskQueue: string, tenants: readonly string[] = ['default'], namespace = 'default'): TriggerTarget {
  return { namespace, taskQueue, policy: testPolicy(tenants) };
}

/**
 * The tenants of suites that make a tenant per night (so the dev server's nights never collide):
 * a list that includes every tenant. Refusing other tenants is tested with real lists
 * (test/integration/two-tenants.test.ts, test/unit/http-api.test.ts).
 */
export function everyTenant(): readonly string[] {
  class Every extends Array<string> {
    override includes(): boolean {
      return true;
    }
  }
  return Every.from(['(every tenant)']) as unknown as readonly string[];
}
