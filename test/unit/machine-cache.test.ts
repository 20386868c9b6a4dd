/**
 * The machine-wide caches of slow builds (scripts/lib/machine-cache.sh, scripts/lib/tool-venv.sh):
 * where they live, and that a tool environment is built once, reused by every clone, rebuilt when
 * what it was built from changes or its build was cut short. pip is a stand-in that records what it
 * was asked to install; the scripts are the real ones.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LIB = join(__dirname, '..', '..', 'scripts', 'lib');

/** A python that passes the version check, makes a venv holding a copy of itself, and logs pip installs. */
const FAKE_PYTHON = `#!/usr/bin/env bash
case "$1" in
  -c) exit 0 ;;
  --version) echo "Python 3.11.7" ;;
  -m) case "$2" in
        venv) mkdir -p "$3/bin" && cp "$0" "$3/bin/python" ;;
        pip) shift 2; echo "$*" >> "$FAKE_PIP_LOG" ;;
      esac ;;
esac
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nightjar-machine-cache-'));
  writeFileSync(join(dir, 'python'), FAKE_PYTHON);
  chmodSync(join(dir, 'python'), 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function bash(script: string, env: Record<string, string> = {}): string {
  return execFileSync('bash', ['-c', `set -euo pipefail; say() { :; }; fail() { echo "FAIL $*" >&2; exit 1; }\n${script}`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: join(dir, 'home'), FAKE_PIP_LOG: join(dir, 'pip.log'), PYTHON: join(dir, 'python'), ...env },
  }).trim();
}

const installs = (): string[] => (existsSync(join(dir, 'pip.log')) ? readFileSync(join(dir, 'pip.log'), 'utf8').trim().split('\n') : []);

describe('machine_cache', () => {
  test('the override wins; otherwise the system cache as root, the user cache for anyone else', () => {
    const lookup = (override: string, env: Record<string, string> = {}) =>
      bash(`. ${LIB}/machine-cache.sh; machine_cache k8s "${override}"`, env);
    expect(lookup('/srv/k8s-cache')).toBe('/srv/k8s-cache');
    const root = process.getuid?.() === 0;
    expect(lookup('')).toBe(root ? '/var/cache/nightjar/k8s' : join(dir, 'home', '.cache', 'nightjar', 'k8s'));
    expect(lookup('', { XDG_CACHE_HOME: '/xdg' })).toBe(root ? '/var/cache/nightjar/k8s' : '/xdg/nightjar/k8s');
  });
});

describe('tool_venv', () => {
  const cache = () => join(dir, 'tools');
  const venv = (clone: string, ...reqs: string[]) =>
    bash(`. ${LIB}/tool-venv.sh; tool_venv ${join(dir, clone, '.venv')} ${reqs.join(' ')}`, { NIGHTJAR_TOOLS_CACHE: cache() });

  test('built once in the cache, linked from every clone, named without the link\'s dot', () => {
    venv('clone-a', 'pyspark==4.3.0', 'pytest==8.4.2');
    venv('clone-b', 'pyspark==4.3.0', 'pytest==8.4.2');
    expect(installs()).toEqual(['install --quiet --disable-pip-version-check pyspark==4.3.0 pytest==8.4.2']);
    const target = readlinkSync(join(dir, 'clone-a', '.venv'));
    expect(readlinkSync(join(dir, 'clone-b', '.venv'))).toBe(target);
    expect(target).toMatch(new RegExp(`^${cache()}/venv-[0-9a-f]{16}$`));
    expect(existsSync(join(target, 'bin', 'python'))).toBe(true);
  });

  test('a changed requirement builds beside the old environment, which stays for clones using it', () => {
    venv('clone-a', 'pyspark==4.3.0');
    const old = readlinkSync(join(dir, 'clone-a', '.venv'));
    venv('clone-a', 'pyspark==4.3.1');
    expect(installs()).toHaveLength(2);
    expect(readlinkSync(join(dir, 'clone-a', '.venv'))).not.toBe(old);
    expect(existsSync(join(old, '.nightjar-stamp'))).toBe(true);
  });

  test('a build cut short (no stamp) is made again from scratch', () => {
    venv('clone-a', 'pyspark==4.3.0');
    const target = readlinkSync(join(dir, 'clone-a', '.venv'));
    rmSync(join(target, '.nightjar-stamp'));
    writeFileSync(join(target, 'half-written'), '');
    venv('clone-a', 'pyspark==4.3.0');
    expect(installs()).toHaveLength(2);
    expect(existsSync(join(target, 'half-written'))).toBe(false);
  });

  test('a directory an older checkout kept at the link is replaced by the link', () => {
    mkdirSync(join(dir, 'clone-a', '.venv', 'bin'), { recursive: true });
    venv('clone-a', 'pyspark==4.3.0');
    expect(lstatSync(join(dir, 'clone-a', '.venv')).isSymbolicLink()).toBe(true);
  });
});
