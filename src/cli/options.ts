import { InvalidArgumentError } from 'commander';
import { isBusinessDate } from '../domain/business-date';
import { SCENARIO_NAMES, type NamedScenario, type ScenarioName } from '../spark/kubernetes/simulator/scenarios';

/** Commander argument parsers that fail with a message naming the flag's rule. */
export function parseBusinessDate(value: string): string {
  if (!isBusinessDate(value)) throw new InvalidArgumentError(`'${value}' is not a calendar date written as YYYY-MM-DD.`);
  return value;
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`'${value}' is not a whole number ≥ 0.`);
  return Number(value);
}

export function parseRate(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`'${value}' is not a rate between 0 and 1 (e.g. 0.01 for 1%).`);
  }
  return n;
}

/** Yesterday in UTC: the business date a T+1 run processes by default. */
export function previousDay(now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1)).toISOString().slice(0, 10);
}

/** Where the demo runs Spark: this machine, or a simulated spark-operator cluster in this process. */
export const SPARK_PLATFORM_CHOICES = ['local', 'simulated-kubernetes'] as const;
export type SparkPlatformChoice = (typeof SPARK_PLATFORM_CHOICES)[number];

export function parseSparkPlatform(value: string): SparkPlatformChoice {
  const choice = SPARK_PLATFORM_CHOICES.find((c) => c === value);
  if (choice === undefined) throw new InvalidArgumentError(`'${value}' is not a Spark platform; choose one of: ${SPARK_PLATFORM_CHOICES.join(', ')}.`);
  return choice;
}

export function parseScenario(value: string): ScenarioName {
  const name = SCENARIO_NAMES.find((n) => n === value);
  if (name === undefined) throw new InvalidArgumentError(`'${value}' is not a simulator scenario; choose one of: ${SCENARIO_NAMES.join(', ')}.`);
  return name;
}

export type DemoSparkPlatform = { readonly kind: 'local' } | { readonly kind: 'simulated-kubernetes'; readonly scenario: ScenarioName };

/** The demo's Spark platform from its flags. A scenario is what the simulated cluster does, so it needs one. */
export function demoSparkPlatform(platform: SparkPlatformChoice, scenario: ScenarioName | undefined): DemoSparkPlatform {
  if (platform === 'local') {
    if (scenario !== undefined) throw new InvalidArgumentError(`--scenario ${scenario} needs --spark-platform simulated-kubernetes (local Spark runs as it runs).`);
    return { kind: 'local' };
  }
  return { kind: 'simulated-kubernetes', scenario: scenario ?? 'success' };
}

/** What the first attempt of a job asks for, and how much more an out-of-memory retry asks for. */
export interface DemoSizes {
  readonly driverMemoryMb: number;
  readonly executorMemoryMb: number;
  readonly memoryFactor: number;
}

/**
 * A named scenario with the parameters that make it show what it is named for with the demo's
 * sizes. The memory scenarios need more than the first attempt asks for and no more than one
 * escalation gives (halfway between: ×1.5 with the default factor 2), so exactly one
 * escalation fixes them; the passing troubles hit the first attempt only.
 */
export function demoScenario(name: ScenarioName, sizes: DemoSizes): NamedScenario {
  const halfwayAbove = (mb: number) => Math.round((mb * (1 + sizes.memoryFactor)) / 2);
  switch (name) {
    case 'executor-oom':
      return { name, minExecutorMemoryMb: halfwayAbove(sizes.executorMemoryMb) };
    case 'driver-oom':
      return { name, minDriverMemoryMb: halfwayAbove(sizes.driverMemoryMb) };
    case 'eviction':
    case 'stuck-submitted':
      return { name, times: 1 };
    default:
      return { name };
  }
}
