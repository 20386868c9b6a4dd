import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** The deployment checks: the chart, its CI values, the Dockerfiles and the tools that check them. */
export const REPO = path.resolve(__dirname, '..', '..');
export const CHART = path.join(REPO, 'deploy', 'helm', 'nightjar');
export const DOCKER_DIR = path.join(REPO, 'deploy', 'docker');
export const DOCKERFILES = ['worker.Dockerfile', 'spark.Dockerfile'].map((f) => path.join(DOCKER_DIR, f));

/** The Kubernetes version the chart is rendered for and validated against (kubernetes-validate's schemas). */
export const KUBE_VERSION = '1.33.0';

export const TOOLS_DIR = process.env.NIGHTJAR_DEPLOY_TOOLS ?? path.join(REPO, '.cache', 'deploy-tools', 'bin');

/** The absolute path of a tool of scripts/deploy-tools.sh; throws a message saying how to install it. */
export function tool(name: 'helm' | 'hadolint' | 'kubernetes-validate' | 'checkov'): string {
  const file = path.join(TOOLS_DIR, name);
  if (!fs.existsSync(file)) {
    throw new Error(`${name} not found in ${TOOLS_DIR}: run 'bash scripts/deploy-tools.sh' (or set NIGHTJAR_DEPLOY_TOOLS to the directory it prints)`);
  }
  return file;
}

export function run(file: string, args: readonly string[], options: { cwd?: string } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(file, args, { cwd: options.cwd ?? REPO, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  return result;
}

/** The CI values files, by name (`minimal`, `full`, `second-tenant`). */
export function ciValues(): { name: string; file: string }[] {
  const dir = path.join(CHART, 'ci');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f) => ({ name: f.replace(/-values\.yaml$/, ''), file: path.join(dir, f) }));
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** `helm template` arguments; the namespace is the release's. */
export function templateArgs(namespace: string, valuesFiles: readonly string[], release = 'nightjar'): string[] {
  return ['template', release, CHART, '--namespace', namespace, '--kube-version', KUBE_VERSION, ...valuesFiles.flatMap((f) => ['--values', f])];
}

/** Renders the chart; throws with helm's stderr when it refuses. */
export function render(namespace: string, valuesFiles: readonly string[], release = 'nightjar'): { text: string; objects: KubeObject[] } {
  const result = run(tool('helm'), templateArgs(namespace, valuesFiles, release));
  if (result.status !== 0) throw new Error(`helm template failed (${result.status}):\n${result.stderr}`);
  const objects = parseAllDocuments(result.stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
  return { text: result.stdout, objects };
}

export function find(objects: readonly KubeObject[], kind: string, nameSuffix = ''): KubeObject[] {
  return objects.filter((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix));
}

export function only(objects: readonly KubeObject[], kind: string, nameSuffix = ''): KubeObject {
  const found = find(objects, kind, nameSuffix);
  if (found.length !== 1) throw new Error(`expected one ${kind} named *${nameSuffix}, found ${found.map((o) => o.metadata.name).join(', ') || 'none'}`);
  return found[0] as KubeObject;
}

/** A fresh temporary directory, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nightjar-${prefix}-`));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
