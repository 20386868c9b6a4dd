/**
 * spark-submit's own JVM in spark-submit mode: the time and CPU of one submission (spark-submit
 * creating the driver pod on the local plane, then exiting) with the JVM's defaults against the
 * worker's launcher settings (the short-job options and a class-data archive), alternated in one
 * run. The driver pods stay Pending (no container runtime serves this namespace) and each
 * attempt is cleaned up before the next; one untimed submission per arm first, as a worker's first
 * submission writes the archive.
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { NightjarConfig } from '../src/config/config';
import { launcherJava } from '../src/spark/create-platform';
import { SparkSubmitKubernetesPlatform } from '../src/spark/kubernetes/spark-submit/spark-submit-platform';
import type { SparkAttemptRequest } from '../src/spark/platform';
import { createTestNamespace, deleteTestNamespace, planeKubeConfig, planeKubeConfigFile } from '../test/support/local-plane';
import { TEST_RESOURCES, testPlatformSettings } from '../test/support/local-runtime';
import { round } from './stats';

export interface LauncherArm {
  readonly arm: 'JVM defaults' | 'launcher settings';
  readonly wallMs: readonly number[];
  /** CPU seconds of spark-submit and its JVMs (this process's reaped children), per submission. */
  readonly cpuSeconds: readonly number[];
}

export interface LauncherResult {
  readonly rounds: number;
  readonly javaOptions: readonly string[];
  readonly arms: readonly LauncherArm[];
  /** Median wall of the defaults over the median wall of the launcher settings. */
  readonly medianWallRatio: number;
  readonly medianCpuRatio: number;
}


/** CPU seconds of the children this process has waited for (user + system), from /proc. */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // cutime and cstime are fields 16 and 17 of stat(5), 14 and 15 after the command name.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function benchSubmitLauncher(config: NightjarConfig, opts: { readonly dir: string; readonly rounds: number }): Promise<LauncherResult> {
  const kc = planeKubeConfig();
  const namespace = await createTestNamespace(kc, 'bench-launcher');
  await fs.mkdir(opts.dir, { recursive: true });
  const spec = path.join(opts.dir, 'spec.json');
  await fs.writeFile(spec, JSON.stringify({ mode: 'ok' }));
  // The tests' plane settings: the pods stay Pending here, so what they would run does not matter.
  const settings = testPlatformSettings(namespace);
  const launcher = launcherJava(config);
  const platform = (withLauncher: boolean) =>
    new SparkSubmitKubernetesPlatform({
      kubeConfig: kc,
      settings,
      submit: {
        sparkSubmit: config.spark.sparkSubmit,
        submitTimeoutMs: 300_000,
        kubeConfigPath: planeKubeConfigFile(),
        workDir: opts.dir,
        ...(withLauncher ? launcher : {}),
      },
    });
  const arms = { 'JVM defaults': platform(false), 'launcher settings': platform(true) } as const;
  const measured: Record<keyof typeof arms, { wallMs: number[]; cpuSeconds: number[] }> = {
    'JVM defaults': { wallMs: [], cpuSeconds: [] },
    'launcher settings': { wallMs: [], cpuSeconds: [] },
  };
  let n = 0;
  const submitOnce = async (arm: keyof typeof arms): Promise<{ wallMs: number; cpuSeconds: number }> => {
    const attemptId = `nj-20261206-normalize-launch${process.pid}-a${++n}`;
    const request: SparkAttemptRequest = {
      attemptId,
      workflowId: `bench-${attemptId}`,
      businessDate: '2026-12-06',
      job: 'normalize',
      attempt: 1,
      resources: TEST_RESOURCES,
      mainFile: path.join(config.spark.jobsDir, 'jobs', 'normalize.py'),
      args: ['--spec', spec],
      sparkConf: {},
    };
    const cpu0 = childrenCpuSeconds();
    const t0 = performance.now();
    await arms[arm].submit(request);
    const wallMs = performance.now() - t0;
    const cpuSeconds = childrenCpuSeconds() - cpu0;
    await arms[arm].cleanup(attemptId);
    return { wallMs, cpuSeconds };
  };
  try {
    for (const arm of Object.keys(arms) as (keyof typeof arms)[]) await submitOnce(arm); // warm-up: the archive
    for (let r = 0; r < opts.rounds; r++) {
      const order: (keyof typeof arms)[] = r % 2 === 0 ? ['JVM defaults', 'launcher settings'] : ['launcher settings', 'JVM defaults'];
      for (const arm of order) {
        const one = await submitOnce(arm);
        measured[arm].wallMs.push(Math.round(one.wallMs));
        measured[arm].cpuSeconds.push(round(one.cpuSeconds, 2));
      }
    }
  } finally {
    for (const p of Object.values(arms)) await p.close();
    await deleteTestNamespace(kc, namespace);
  }
  const d = measured['JVM defaults'];
  const l = measured['launcher settings'];
  return {
    rounds: opts.rounds,
    javaOptions: launcher.launcherJavaOptions,
    arms: (Object.keys(measured) as (keyof typeof arms)[]).map((arm) => ({ arm, ...measured[arm] })),
    medianWallRatio: round(median(d.wallMs) / median(l.wallMs), 2),
    medianCpuRatio: round(median(d.cpuSeconds) / median(l.cpuSeconds), 2),
  };
}
