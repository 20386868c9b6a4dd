import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CliDeps } from '../../src/cli/context';
import { runCli } from '../../src/cli/main';

function deps(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const d: CliDeps = {
    output: { stdout: (t) => out.push(t), stderr: (t) => err.push(t) },
    env,
    connect: () => Promise.reject(new Error('no Temporal in this test')),
  };
  return { d, out, err };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-keys-cli-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('`keys create` writes a key once and refuses to overwrite it (exit 2, file unchanged)', async () => {
  const first = deps();
  expect(await runCli(['node', 'nightjar', 'keys', 'create', '--dir', dir, '--id', '2026-04'], first.d)).toBe(0);
  const file = path.join(dir, '2026-04');
  const content = fs.readFileSync(file, 'utf8');
  expect(first.out.join('')).toContain(`NIGHTJAR_ENCRYPTION_KEY_ID=2026-04`);
  const again = deps();
  expect(await runCli(['node', 'nightjar', 'keys', 'create', '--dir', dir, '--id', '2026-04'], again.d)).toBe(2);
  expect(again.err.join('')).toMatch(/already exists/);
  expect(fs.readFileSync(file, 'utf8')).toBe(content);
});

test('`codec-server` without keys configured is a usage error naming the variables', async () => {
  const { d, err } = deps({ NIGHTJAR_DATA_DIR: dir });
  expect(await runCli(['node', 'nightjar', 'codec-server'], d)).toBe(2);
  expect(err.join('')).toMatch(/NIGHTJAR_ENCRYPTION_KEYS_DIR and NIGHTJAR_ENCRYPTION_KEY_ID/);
});

test('`codec-server` on a non-loopback host without tokens refuses to start (exit 2)', async () => {
  fs.mkdirSync(path.join(dir, 'keys'));
  fs.writeFileSync(path.join(dir, 'keys', 'k1'), Buffer.alloc(32, 1).toString('base64'));
  const { d, err } = deps({ NIGHTJAR_DATA_DIR: dir, NIGHTJAR_ENCRYPTION_KEYS_DIR: path.join(dir, 'keys'), NIGHTJAR_ENCRYPTION_KEY_ID: 'k1' });
  expect(await runCli(['node', 'nightjar', 'codec-server', '--host', '0.0.0.0', '--port', '18089'], d)).toBe(2);
  expect(err.join('')).toMatch(/set NIGHTJAR_CODEC_TOKENS/);
});
