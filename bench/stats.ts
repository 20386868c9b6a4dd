import fs from 'node:fs';

/** Small statistics for benchmark reports. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/** A memory line of /proc/<pid>/status (VmRSS, VmHWM, RssAnon, …) in bytes; 0 when absent. */
export function procStatusBytes(pid: number | string, key: string): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${key}:`));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}
