import fs from 'node:fs/promises';

/** The processes of this machine the local platform looks at, through Linux's /proc. */

/** Every process id but this process's own. */
export async function otherProcessIds(): Promise<number[]> {
  const entries = await fs.readdir('/proc').catch(() => [] as string[]);
  return entries.filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => pid !== process.pid);
}

/** `pid`'s process group when it is alive (not a zombie); undefined when gone. */
export async function liveProcessGroup(pid: number): Promise<number | undefined> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X' || state === 'x') return undefined;
  return Number(fields[2]);
}

/** Whether a word of `pid`'s command line (arguments split on whitespace too, as in one `-D…` list) satisfies `test`. */
export async function commandLineHas(pid: number, test: (word: string) => boolean): Promise<boolean> {
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.split('\0').some((arg) => arg.split(/\s+/).some(test));
}

/** Whether an entry (`NAME=value`) of `pid`'s environment satisfies `test`. */
export async function environmentHas(pid: number, test: (entry: string) => boolean): Promise<boolean> {
  const environ = await fs.readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  return environ.split('\0').some(test);
}

/** `pid`'s children (their ids). */
export async function childProcessIds(pid: number): Promise<number[]> {
  const children = await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return children.split(/\s+/).filter(Boolean).map(Number);
}

/** Sends `signal`; a process (or group, for a negative id) already gone is what we want. */
export function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: gone meanwhile
  }
}
