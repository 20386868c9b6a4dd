/**
 * Stopping and starting one component of the control plane the tests run on (scripts/k8s.sh
 * stop|start|restart COMPONENT), for the faults of a real plane: an API server or etcd restart, a
 * scheduler or controller-manager away for a while, kwok's nodes. The plane is the one of
 * NIGHTJAR_TEST_KUBECONFIG: its state directory is the kubeconfig's folder, where `up` recorded
 * the plane's cache and ports.
 *
 * Restarting components disturbs every test on that plane, so it is allowed only where the run
 * owns the plane: scripts/test.sh sets NIGHTJAR_TEST_PLANE_RESTARTS=1 when it started the plane
 * itself (and runs these tests serially, after the others); a developer sets it for a private
 * plane (NIGHTJAR_K8S_STATE and other ports), never for a shared one.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { planeKubeConfigPath } from './local-plane';

export const PLANE_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type PlaneComponent = (typeof PLANE_COMPONENTS)[number];

export const RESTARTS_ENV = 'NIGHTJAR_TEST_PLANE_RESTARTS';

const K8S_SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'k8s.sh');

/** Why the plane's components may not be restarted by this run, or undefined when they may. */
export function restartsRefused(): string | undefined {
  const kubeconfig = planeKubeConfigPath();
  if (kubeconfig === undefined) return 'NIGHTJAR_TEST_KUBECONFIG is not set';
  if (process.env[RESTARTS_ENV] !== '1') return `${RESTARTS_ENV} is not 1 (set it only for a plane this run owns: scripts/test.sh does when it started the plane)`;
  if (!fs.existsSync(path.join(path.dirname(kubeconfig), 'plane.env'))) return `${path.dirname(kubeconfig)} is not the state directory of a plane started by scripts/k8s.sh up`;
  return undefined;
}

/** `test` when restarts are allowed; otherwise skipped, saying why in its name. */
export function testWithRestarts(name: string, body: () => Promise<void>, timeoutMs?: number): void {
  const refused = restartsRefused();
  if (refused === undefined) test(name, body, timeoutMs);
  else test.skip(`${name} — skipped: ${refused}`, body);
}

export interface ComponentChange {
  readonly component: PlaneComponent;
  readonly action: 'stop' | 'start' | 'restart';
  /** Wall time of the script: a stop waits for the process to end, a start until it serves. */
  readonly ms: number;
}

/** Runs `scripts/k8s.sh <action> <component>` on the tests' plane; throws with its output when it fails. */
export async function changeComponent(action: ComponentChange['action'], component: PlaneComponent): Promise<ComponentChange> {
  const refused = restartsRefused();
  if (refused !== undefined) throw new Error(`will not ${action} ${component}: ${refused}`);
  const state = path.dirname(planeKubeConfigPath() as string);
  const started = Date.now();
  try {
    await promisify(execFile)('bash', [K8S_SCRIPT, action, component], { env: { ...process.env, NIGHTJAR_K8S_STATE: state }, timeout: 180_000 });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`scripts/k8s.sh ${action} ${component} failed: ${(stderr ?? String(error)).trim().split('\n').slice(-3).join(' | ')}`, { cause: error });
  }
  return { component, action, ms: Date.now() - started };
}

export const stopComponent = (component: PlaneComponent) => changeComponent('stop', component);
export const startComponent = (component: PlaneComponent) => changeComponent('start', component);
export const restartComponent = (component: PlaneComponent) => changeComponent('restart', component);

/**
 * Starts every component of the plane that is not running, in the order `up` starts them (a start
 * of a running component says so and changes nothing). Called after each test that stops or
 * restarts components, so one failed restart does not leave the rest of the run on a plane without
 * its scheduler or its nodes (every later night would wait for pods that are never placed).
 */
export async function ensurePlaneWhole(): Promise<void> {
  for (const component of PLANE_COMPONENTS) await startComponent(component);
}
