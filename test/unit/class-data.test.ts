import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ClassDataArchives, javaOptionValue } from '../../src/spark/class-data';

let dir: string;
let launcher: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar class-data-'));
  launcher = path.join(dir, 'spark-submit');
  await fs.writeFile(launcher, '#!/bin/sh\n');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const archives = (sub = 'archives') => new ClassDataArchives(path.join(dir, sub), pino({ enabled: false }));
const target = (options: readonly string[]) => options[0]!.replace(/^-XX:\w+=/, '').replace(/\\(.)/g, '$1');

describe('ClassDataArchives', () => {
  test('the first JVM writes the archive (kept only after a clean exit); the next one maps it', async () => {
    const a = archives();
    const first = await a.launch('driver', launcher, ['-XX:+UseSerialGC'], 'attempt-1');
    expect(first.options[0]).toMatch(/^-XX:ArchiveClassesAtExit=/);
    // Another JVM starting meanwhile neither writes nor maps: the claim is held.
    expect((await a.launch('driver', launcher, ['-XX:+UseSerialGC'], 'attempt-2')).options).toEqual([]);
    await fs.writeFile(target(first.options), 'archive');
    await first.exited(true);
    const next = await a.launch('driver', launcher, ['-XX:+UseSerialGC'], 'attempt-3');
    expect(next.options[0]).toMatch(/^-XX:SharedArchiveFile=.*driver-[0-9a-f]{16}\.jsa$/);
    expect(await fs.readFile(target(next.options), 'utf8')).toBe('archive');
  });

  test('a JVM that failed leaves no archive and no claim; the next one writes it', async () => {
    const a = archives();
    const failed = await a.launch('driver', launcher, [], 'attempt-1');
    await fs.writeFile(target(failed.options), 'half');
    await failed.exited(false);
    expect(await fs.readdir(path.join(dir, 'archives'))).toEqual([]);
    expect((await a.launch('driver', launcher, [], 'attempt-2')).options[0]).toMatch(/^-XX:ArchiveClassesAtExit=/);
  });

  test('roles and JVM options name different archives; no directory means no class-data sharing', async () => {
    const a = archives();
    const names = new Set<string>();
    for (const [role, options] of [['driver', []], ['kubernetes-submit', []], ['driver', ['-XX:TieredStopAtLevel=1']]] as const) {
      const launch = await a.launch(role, launcher, options, `c-${names.size}`);
      await fs.writeFile(target(launch.options), role);
      await launch.exited(true);
      names.add(path.basename(target(launch.options)));
    }
    expect((await fs.readdir(path.join(dir, 'archives'))).sort()).toHaveLength(3);
    const none = await new ClassDataArchives(undefined, pino({ enabled: false })).launch('driver', launcher, [], 'x');
    expect(none.options).toEqual([]);
    await none.exited(true);
  });

  test("paths are escaped for Spark's launcher, which splits options on whitespace", () => {
    expect(javaOptionValue('/tmp/a dir/it\'s "x"\\y')).toBe('/tmp/a\\ dir/it\\\'s\\ \\"x\\"\\\\y');
  });
});

test('a directory that cannot be written starts the JVM without an archive, never fails it', async () => {
  const blocked = path.join(dir, 'a-file');
  await fs.writeFile(blocked, 'not a directory');
  const launch = await new ClassDataArchives(path.join(blocked, 'archives'), pino({ enabled: false })).launch('kubernetes-submit', launcher, [], 'attempt-1');
  expect(launch.options).toEqual([]);
  await launch.exited(true);
});
