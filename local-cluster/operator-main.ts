/**
 * The operator stand-in as a process, submitting for real (demo and test support):
 *   node operator-main.js --kubeconfig <admin kubeconfig> --namespace <ns>… --spark-submit <path>
 *                         --work-dir <dir> [--pod-label key=value]…
 * Prints "ready" once its watches listed, then one JSON line per timeline entry; runs until
 * SIGTERM or SIGINT, then stops (a spark-submit still running is killed) and exits.
 */
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { LocalSparkOperator } from './spark-operator';
import { UsageError, optionPairs } from './runtime/option-pairs';

function parseArgs(argv: readonly string[]): Map<string, string[]> {
  const values = optionPairs(argv);
  for (const required of ['--kubeconfig', '--namespace', '--spark-submit', '--work-dir']) {
    if (!values.has(required)) throw new UsageError(`${required} is required`);
  }
  return values;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const one = (key: string): string => args.get(key)?.[0] ?? '';
  const podLabels = Object.fromEntries(
    (args.get('--pod-label') ?? []).map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new UsageError(`--pod-label expects key=value, got ${JSON.stringify(pair)}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(one('--kubeconfig'));
  const operator = new LocalSparkOperator({
    kubeConfig,
    namespaces: args.get('--namespace') ?? [],
    realSpark: { sparkSubmit: one('--spark-submit'), kubeConfigPath: one('--kubeconfig'), podLabels, workDir: one('--work-dir') },
    logger: pino({ base: { component: 'local-spark-operator' } }, pino.destination(2)),
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    operator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`local-spark-operator: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await operator.start();
  process.stdout.write('ready\n');
  let shown = 0;
  setInterval(() => {
    for (const timeline = operator.timeline; shown < timeline.length; shown += 1) process.stdout.write(`${JSON.stringify(timeline[shown])}\n`);
  }, 200);
}

main().catch((error: unknown) => {
  process.stderr.write(`local-spark-operator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
