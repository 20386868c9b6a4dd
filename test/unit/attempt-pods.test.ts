import { describePod, recordedPods } from '../../src/domain/spark/attempt-pods';
import type { AttemptPod } from '../../src/domain/spark/resources';

const exec = (name: string, extra: Partial<AttemptPod> = {}): AttemptPod => ({ role: 'executor', name, phase: 'Running', ...extra });

test('recorded pods: the driver first, then failed executors, then the rest, each by name; at most the bound, the rest counted', () => {
  const pods = [exec('e-3'), exec('e-2', { phase: 'Failed', exitCode: 137, reason: 'OOMKilled' }), exec('e-1'), { role: 'driver', name: 'z-driver' } as AttemptPod, exec('e-0', { phase: 'Succeeded', exitCode: 52 })];
  expect(recordedPods(pods).pods.map((p) => p.name)).toEqual(['z-driver', 'e-0', 'e-2', 'e-1', 'e-3']);
  expect(recordedPods(pods).omitted).toBe(0);
  expect(recordedPods(pods, 2)).toEqual({ pods: [pods[3], pods[4]], omitted: 3 });
  expect(recordedPods([], 2)).toEqual({ pods: [], omitted: 0 });
});

test('a pod reads as role, name, node, phase and how its container ended; what is unknown is left out', () => {
  expect(describePod(exec('e-1', { node: 'kwok-a2', phase: 'Failed', exitCode: 137, reason: 'OOMKilled' }))).toBe('executor e-1 on kwok-a2: Failed, exit 137 OOMKilled');
  expect(describePod({ role: 'driver', name: 'd' })).toBe('driver d: unknown');
  expect(describePod({ role: 'driver', name: 'd', node: 'kwok-b1', phase: 'Succeeded', exitCode: 0, reason: 'Completed' })).toBe('driver d on kwok-b1: Succeeded, exit 0 Completed');
});
