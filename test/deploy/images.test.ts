import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DOCKER_DIR, DOCKERFILES, REPO, run, tool } from './tools';

jest.setTimeout(60_000);

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(file: string): Instruction[] {
  const joined = fs.readFileSync(file, 'utf8').replace(/\\\r?\n/g, ' ');
  return joined
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [keyword = '', ...rest] = l.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** The instructions of the last stage. */
function finalStage(all: Instruction[]): Instruction[] {
  const last = all.map((i) => i.keyword).lastIndexOf('FROM');
  return all.slice(last);
}

const HADOLINT_CONFIG = path.join(DOCKER_DIR, '.hadolint.yaml');

test('hadolint: no finding of any level in either Dockerfile; ignores only with a reason', () => {
  const config = parseYaml(fs.readFileSync(HADOLINT_CONFIG, 'utf8')) as { 'failure-threshold'?: string; ignored?: string[] };
  expect(config['failure-threshold']).toBe('info');
  const text = fs.readFileSync(HADOLINT_CONFIG, 'utf8');
  for (const rule of config.ignored ?? []) expect(text).toMatch(new RegExp(`${rule}\\s*#\\s*\\S.{10,}`));
  const result = run(tool('hadolint'), ['--config', HADOLINT_CONFIG, '--format', 'json', ...DOCKERFILES]);
  expect({ status: result.status, findings: JSON.parse(result.stdout || '[]') as unknown[] }).toEqual({ status: 0, findings: [] });
});

describe.each(DOCKERFILES.map((file) => ({ name: path.basename(file), file })))('$name', ({ file }) => {
  const all = instructions(file);
  const last = finalStage(all);

  test('every base image is pinned to an exact tag: no latest, no bare name, no ARG-built reference', () => {
    const froms = all.filter((i) => i.keyword === 'FROM').map((i) => i.args.split(/\s+/)[0] ?? '');
    expect(froms.length).toBeGreaterThan(0);
    for (const image of froms) {
      expect(image).toMatch(/^[a-z0-9./_-]+:[A-Za-z0-9_.-]+(@sha256:[0-9a-f]{64})?$/);
      expect(image).not.toMatch(/:latest$/);
      expect(image).toMatch(/:\S*\d+\.\d+/); // a version, not a floating word
    }
  });

  test('the final stage runs as a numeric non-root user', () => {
    const users = last.filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1]?.args ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
  });

  test('no secret baked in: no ENV, ARG or LABEL with a credential-like name, no COPY of key material', () => {
    const credential = /(PASS(WORD)?|SECRET|TOKEN|API_?KEY|PRIVATE|CREDENTIAL|PG_URL|_KEY\b)/i;
    for (const i of all.filter((x) => ['ENV', 'ARG', 'LABEL'].includes(x.keyword))) {
      const names = i.args.match(/([A-Za-z_][A-Za-z0-9_.-]*)=/g) ?? [i.args.split(/\s+/)[0] ?? ''];
      for (const name of names) expect({ instruction: `${i.keyword} ${i.args}`, credential: credential.test(name) }).toEqual({ instruction: `${i.keyword} ${i.args}`, credential: false });
    }
    for (const i of all.filter((x) => x.keyword === 'COPY' || x.keyword === 'ADD')) expect(i.args).not.toMatch(/\.(pem|key|crt|p12)\b|\.env\b|\.npmrc/);
    expect(all.filter((i) => i.keyword === 'ADD')).toEqual([]);
  });

  test('no Docker health check: Kubernetes probes the pods', () => {
    expect(last.filter((i) => i.keyword === 'HEALTHCHECK').map((i) => i.args)).toEqual(['NONE']);
  });
});

describe('worker.Dockerfile', () => {
  const file = DOCKERFILES[0] as string;
  const all = instructions(file);
  const last = finalStage(all);

  test('builds, bundles the workflows and prunes dev dependencies in the build stage', () => {
    const build = all.slice(0, all.map((i) => i.keyword).lastIndexOf('FROM')).filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' && ');
    expect(build).toMatch(/npx tsc -p tsconfig\.build\.json/);
    expect(build).toMatch(/npm run build:bundle/);
    expect(build).toMatch(/npm prune --omit=dev/);
  });

  test('the runtime stage: bundle env, read-only-root volumes, SIGTERM, the CLI entry point with worker as default', () => {
    const env = last.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/NIGHTJAR_WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js/);
    const volumes = last.filter((i) => i.keyword === 'VOLUME').map((i) => JSON.parse(i.args) as string[]).flat();
    const dataDir = /NIGHTJAR_DATA_DIR=(\S+)/.exec(env)?.[1];
    expect(volumes).toEqual(expect.arrayContaining(['/tmp', dataDir]));
    expect(last.find((i) => i.keyword === 'STOPSIGNAL')?.args).toBe('SIGTERM');
    expect(JSON.parse(last.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? 'null')).toEqual(['node', 'bin/nightjar.js']);
    expect(JSON.parse(last.find((i) => i.keyword === 'CMD')?.args ?? 'null')).toEqual(['worker']);
    // Only build output and production dependencies reach the runtime stage.
    const copies = last.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    for (const copy of copies) expect(copy).toMatch(/^--from=build \/src\/(package\.json|node_modules|bin|dist) /);
  });

  test('the workflow bundle the image runs is the one scripts/bundle-workflows.js writes', () => {
    expect(JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).scripts['build:bundle']).toBe('node scripts/bundle-workflows.js');
  });
});

describe('spark.Dockerfile', () => {
  const file = DOCKERFILES[1] as string;
  const all = instructions(file);

  test('an official apache/spark image with Python, at the Spark version the SparkApplications declare', () => {
    const from = all.find((i) => i.keyword === 'FROM')?.args ?? '';
    expect(from).toMatch(/^apache\/spark:(\d+\.\d+\.\d+)-scala[\d.]+-java\d+-python3-ubuntu$/);
    const values = fs.readFileSync(path.join(REPO, 'deploy', 'helm', 'nightjar', 'values.yaml'), 'utf8');
    const chartSpark = /^\s+version: (\d+\.\d+\.\d+)$/m.exec(values)?.[1];
    expect(from).toContain(`apache/spark:${chartSpark ?? '?'}-`);
  });

  test('the jobs land where the platform points (local:///opt/nightjar/spark/jobs/<job>.py) and run as the spark uid', () => {
    const copies = all.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toEqual(expect.arrayContaining(['spark/jobs /opt/nightjar/spark/jobs', 'spark/nightjar_spark /opt/nightjar/spark/nightjar_spark']));
    const platform = fs.readFileSync(path.join(REPO, 'src', 'spark', 'kubernetes', 'kubernetes-platform.ts'), 'utf8');
    expect(platform).toContain('`local://${this.settings.imageJobsDir.replace(/\\/+$/, \'\')}/jobs/${request.job}.py`');
    for (const job of ['normalize', 'transform']) expect(fs.existsSync(path.join(REPO, 'spark', 'jobs', `${job}.py`))).toBe(true);
    expect(finalStage(all).filter((i) => i.keyword === 'USER').pop()?.args).toBe('185:185');
  });
});

test('.dockerignore keeps dependencies, caches, data, build output and tests out of the build context', () => {
  const ignored = fs.readFileSync(path.join(REPO, '.dockerignore'), 'utf8').split(/\r?\n/).map((l) => l.trim());
  for (const entry of ['node_modules', '.venv', '.cache', '.data', 'dist', 'test', 'bench', '.git']) expect(ignored).toContain(entry);
});
