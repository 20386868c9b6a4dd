import { CommanderError } from 'commander';
import { buildProgram } from '../../src/cli/main';
import { demoScenario } from '../../local-cluster/demo-cluster';
import { readApplication, scenarioScript, type NamedScenario } from '../../local-cluster';
import { demoSparkPlatform, parseKubernetesSubmit, parseScenario, parseSparkPlatform, SCENARIO_NAMES, SPARK_SUBMIT_SCENARIOS } from '../../src/cli/options';

const DEFAULT_SIZES = { driverMemoryMb: 1024, executorMemoryMb: 2048, memoryFactor: 2 };

test('--spark-platform accepts local and local-kubernetes and names both when it refuses', () => {
  expect(parseSparkPlatform('local')).toBe('local');
  expect(parseSparkPlatform('local-kubernetes')).toBe('local-kubernetes');
  expect(() => parseSparkPlatform('simulated-kubernetes')).toThrow(/is not a Spark platform/);
  expect(() => parseSparkPlatform('kubernetes')).toThrow("'kubernetes' is not a Spark platform; choose one of: local, local-kubernetes.");
});

test('--scenario accepts every scenario the operator stand-in plays and lists them all when it refuses one', () => {
  for (const name of SCENARIO_NAMES) expect(parseScenario(name)).toBe(name);
  expect(() => parseScenario('oom')).toThrow(`'oom' is not a scenario; choose one of: ${SCENARIO_NAMES.join(', ')}.`);
});

test('a scenario needs the local Kubernetes platform, which defaults to success', () => {
  expect(demoSparkPlatform('local', undefined)).toEqual({ kind: 'local' });
  expect(() => demoSparkPlatform('local', 'executor-oom')).toThrow('--scenario executor-oom needs --spark-platform local-kubernetes');
  expect(demoSparkPlatform('local-kubernetes', undefined)).toEqual({ kind: 'local-kubernetes', submit: 'operator', scenario: 'success' });
  expect(demoSparkPlatform('local-kubernetes', 'driver-oom')).toEqual({ kind: 'local-kubernetes', submit: 'operator', scenario: 'driver-oom' });
});

test('--kubernetes-submit takes operator or spark-submit, only on the local plane; spark-submit runs only what real Spark does', () => {
  expect(parseKubernetesSubmit('spark-submit')).toBe('spark-submit');
  expect(() => parseKubernetesSubmit('helm')).toThrow("'helm' is not a way to submit to Kubernetes; choose one of: operator, spark-submit.");
  expect(() => demoSparkPlatform('local', undefined, 'spark-submit')).toThrow('--kubernetes-submit spark-submit needs --spark-platform local-kubernetes');
  expect(demoSparkPlatform('local-kubernetes', undefined, 'spark-submit')).toEqual({ kind: 'local-kubernetes', submit: 'spark-submit', scenario: 'success' });
  expect(demoSparkPlatform('local-kubernetes', 'executor-oom', 'spark-submit')).toEqual({ kind: 'local-kubernetes', submit: 'spark-submit', scenario: 'executor-oom' });
  expect(demoSparkPlatform('local-kubernetes', 'eviction', 'operator')).toEqual({ kind: 'local-kubernetes', submit: 'operator', scenario: 'eviction' });
  for (const played of SCENARIO_NAMES.filter((n) => !SPARK_SUBMIT_SCENARIOS.includes(n))) {
    expect(() => demoSparkPlatform('local-kubernetes', played, 'spark-submit')).toThrow(`--scenario ${played} is played by the operator stand-in: use it with --kubernetes-submit operator`);
  }
});


/** The script the operator stand-in gives an application asking for these memories. */
function scriptFor(scenario: NamedScenario, driverMb: number, executorMb: number, attempt = 1) {
  const app = readApplication({
    apiVersion: 'sparkoperator.k8s.io/v1beta2',
    kind: 'SparkApplication',
    metadata: { name: 'nj-app', namespace: 'demo', uid: 'u-1', resourceVersion: '1', creationTimestamp: '2026-11-23T00:00:00Z', labels: { 'nightjar.io/attempt': String(attempt) } },
    spec: { driver: { memory: `${driverMb}m` }, executor: { memory: `${executorMb}m`, instances: 2 } },
  } as unknown as Parameters<typeof readApplication>[0]);
  return scenarioScript(scenario, app);
}

test('executor-oom with the default sizes: the first attempt starves, one escalation (×2) is enough', () => {
  const scenario = demoScenario('executor-oom', DEFAULT_SIZES);
  expect(scenario).toEqual({ name: 'executor-oom', minExecutorMemoryMb: 3072 });
  expect(scriptFor(scenario, 1024, 2048).executors.kind).toBe('oom');
  expect(scriptFor(scenario, 1024, 4096).executors.kind).toBe('healthy');
});

test('driver-oom with the default sizes (or a --driver-memory): the first attempt is OOMKilled, one escalation is enough', () => {
  const scenario = demoScenario('driver-oom', DEFAULT_SIZES);
  expect(scenario).toEqual({ name: 'driver-oom', minDriverMemoryMb: 1536 });
  expect(scriptFor(scenario, 1024, 2048).driver.kind).toBe('oom-killed');
  expect(scriptFor(scenario, 2048, 2048).driver.kind).toBe('runs');
  expect(demoScenario('driver-oom', { ...DEFAULT_SIZES, driverMemoryMb: 512 })).toEqual({ name: 'driver-oom', minDriverMemoryMb: 768 });
  expect(demoScenario('driver-oom', { ...DEFAULT_SIZES, memoryFactor: 1.5 })).toEqual({ name: 'driver-oom', minDriverMemoryMb: 1280 });
});

test('passing troubles hit the first attempt only; the other scenarios keep their defaults', () => {
  expect(demoScenario('eviction', DEFAULT_SIZES)).toEqual({ name: 'eviction', times: 1 });
  expect(scriptFor(demoScenario('eviction', DEFAULT_SIZES), 1024, 2048, 2).driver.kind).toBe('runs');
  expect(demoScenario('stuck-submitted', DEFAULT_SIZES)).toEqual({ name: 'stuck-submitted', times: 1 });
  for (const name of ['success', 'image-pull-backoff', 'application-error', 'leaky'] as const) expect(demoScenario(name, DEFAULT_SIZES)).toEqual({ name });
});

describe('the demo command line', () => {
  /**
   * Parses `nightjar demo <args>` with errors thrown instead of exiting. With `stopBeforeAction`
   * (for valid flags) the demo itself never starts; otherwise the action must fail before it does.
   */
  async function parseDemo(args: string[], stopBeforeAction: boolean): Promise<{ error?: CommanderError; stderr: string }> {
    let stderr = '';
    const quiet = { writeErr: (s: string) => (stderr += s), writeOut: () => undefined };
    const program = buildProgram().exitOverride().configureOutput(quiet);
    const demo = program.commands.find((c) => c.name() === 'demo');
    demo?.exitOverride().configureOutput(quiet);
    if (stopBeforeAction) {
      demo?.hook('preAction', () => {
        throw new CommanderError(0, 'test.parsed', 'parsed');
      });
    }
    try {
      await program.parseAsync(['node', 'nightjar', 'demo', ...args]);
    } catch (error) {
      if (error instanceof CommanderError) return error.code === 'test.parsed' ? { stderr } : { error, stderr };
      throw error;
    }
    return { stderr };
  }

  test('an unknown scenario is refused with the list of valid names', async () => {
    const { error, stderr } = await parseDemo(['--spark-platform', 'local-kubernetes', '--scenario', 'nope'], true);
    expect(error?.code).toBe('commander.invalidArgument');
    expect(stderr).toContain(SCENARIO_NAMES.join(', '));
  });

  test('an unknown platform is refused', async () => {
    const { error, stderr } = await parseDemo(['--spark-platform', 'yarn'], true);
    expect(error?.code).toBe('commander.invalidArgument');
    expect(stderr).toContain('local, local-kubernetes');
  });

  test('a scenario on the local platform is refused before the demo starts', async () => {
    const { error, stderr } = await parseDemo(['--scenario', 'executor-oom'], false);
    expect(error?.exitCode).toBe(2);
    expect(stderr).toContain('--scenario executor-oom needs --spark-platform local-kubernetes');
  });

  test.each([
    [['--kubernetes-submit', 'spark-submit'], '--kubernetes-submit spark-submit needs --spark-platform local-kubernetes'],
    [['--spark-platform', 'local-kubernetes', '--kubernetes-submit', 'spark-submit', '--scenario', 'eviction'], '--scenario eviction is played by the operator stand-in'],
  ])('a bad combination %j is one line and exit code 2, before the demo starts', async (args, message) => {
    const { error, stderr } = await parseDemo(args, false);
    expect(error?.exitCode).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr.trim().split('\n')[0]).toMatch(/^error: /);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  test('an unknown way to submit is refused with the valid ones', async () => {
    const { error, stderr } = await parseDemo(['--spark-platform', 'local-kubernetes', '--kubernetes-submit', 'yarn'], true);
    expect(error?.code).toBe('commander.invalidArgument');
    expect(stderr).toContain('operator, spark-submit');
  });

  test('valid flags parse', async () => {
    expect((await parseDemo(['--spark-platform', 'local-kubernetes', '--kubernetes-submit', 'spark-submit', '--scenario', 'executor-oom'], true)).error).toBeUndefined();
    expect((await parseDemo(['--spark-platform', 'local-kubernetes', '--scenario', 'executor-oom'], true)).error).toBeUndefined();
    expect((await parseDemo([], true)).error).toBeUndefined();
  });
});
