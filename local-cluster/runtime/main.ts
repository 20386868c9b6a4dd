/**
 * The local container runtime as a process:
 *   node main.js --kubeconfig <admin kubeconfig> --checkout <repo root> [--state-dir <dir>] [--node <name>]… [--log-port 10250]
 *                [--label <nightjar.io/runtime value, default local>] [--namespace <ns>]…
 * Runs until SIGTERM or SIGINT, then kills every process it started (also when it dies of an
 * uncaught error) and exits. Prints "ready <state dir>" once it watches the API.
 */
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { CoreV1Api } from '@kubernetes/client-node';
import { LocalKubelet } from './local-kubelet';
import { LogServer } from './log-server';
import { imageDefaults } from './spark-install';
import { UsageError, optionPairs } from './option-pairs';

interface Args {
  kubeconfig: string;
  checkout: string;
  stateDir: string;
  nodes: string[];
  logPort: number;
  label?: string;
  namespaces: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const values = optionPairs(argv);
  const one = (key: string): string | undefined => values.get(key)?.[0];
  const kubeconfig = one('--kubeconfig') ?? process.env.KUBECONFIG;
  if (kubeconfig === undefined) throw new UsageError('--kubeconfig (or KUBECONFIG) is required');
  const checkout = path.resolve(one('--checkout') ?? process.cwd());
  const label = one('--label');
  return {
    kubeconfig,
    checkout,
    stateDir: path.resolve(one('--state-dir') ?? path.join(checkout, '.cache', 'local-runtime')),
    nodes: values.get('--node') ?? [],
    logPort: Number(one('--log-port') ?? 10250),
    ...(label !== undefined ? { label } : {}),
    namespaces: values.get('--namespace') ?? [],
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const logger = pino({ base: { component: 'local-runtime' } });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(args.kubeconfig);
  const kubelet = new LocalKubelet({
    kubeConfig,
    stateDir: args.stateDir,
    ...imageDefaults(args.checkout),
    ...(args.nodes.length === 0 ? {} : { nodes: args.nodes }),
    ...(args.label !== undefined ? { labelValue: args.label } : {}),
    ...(args.namespaces.length === 0 ? {} : { namespaces: args.namespaces }),
    logger,
  });
  const logs = new LogServer({
    kubeConfig,
    port: args.logPort,
    stateDir: args.stateDir,
    logPath: (namespace, pod, container) => kubelet.logPath(namespace, pod, container),
    nodes: async () => {
      if (args.nodes.length > 0) return args.nodes;
      const list = await kubeConfig.makeApiClient(CoreV1Api).listNode();
      return list.items.filter((n) => n.metadata?.annotations?.['kwok.x-k8s.io/node'] === 'fake').map((n) => n.metadata?.name ?? '');
    },
  });
  process.on('exit', () => kubelet.killAllNow());
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void Promise.allSettled([logs.stop(), kubelet.stop()]).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await kubelet.start();
  await logs.start();
  process.stdout.write(`ready ${args.stateDir} memory=${kubelet.memoryEnforcement}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`local-runtime: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
