import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import { FailureType } from '../../src/common/failures';
import { KubernetesSparkPlatform } from '../../src/spark/kubernetes/kubernetes-platform';
import { attemptLabels } from '../../src/spark/kubernetes/labels';
import { attemptRequest, awaitOptions, describeOnPlane, RESOURCES, TEST_SETTINGS, useCluster } from './harness';

// The real plane: namespaces, pods and garbage collection take their (short) time.
jest.setTimeout(60_000);

describeOnPlane('the Kubernetes platform on the real API server', () => {
  const cluster = useCluster();

  test('success: created once, completes, result written by the driver, nothing left after cleanup', async () => {
    const { api, platform, dir, leftovers } = await cluster({ scenario: 'success' });
    const request = await attemptRequest(dir);
    const handle = await platform.submit(request);
    expect(handle).toMatchObject({ attemptId: request.attemptId, platform: 'kubernetes', handle: request.attemptId });

    const app = await api.get('sparkapplications', request.attemptId);
    expect(app?.metadata.labels).toMatchObject(attemptLabels(request));
    expect(app?.metadata.annotations).toMatchObject({ 'nightjar.io/workflow-id': request.workflowId });
    const spec = (await api.get('configmaps', `${request.attemptId}-spec`)) as { data?: Record<string, string> } | undefined;
    expect(JSON.parse(spec?.data?.['spec.json'] ?? '{}')).toMatchObject({ attemptId: request.attemptId });

    const progress: string[] = [];
    const outcome = await platform.await(handle, awaitOptions(progress));
    expect(outcome.kind).toBe('SUCCEEDED');
    expect(progress.length).toBeGreaterThan(0);
    await expect(fs.readFile(`${dir}/out/${request.attemptId}/_result.json`, 'utf8')).resolves.toContain('normalize');

    const report = await platform.cleanup(request.attemptId);
    expect(report.remaining).toBe(0);
    expect(report.removed).toContain(`SparkApplication/${request.attemptId}`);
    expect(await leftovers()).toEqual([]);
  });

  test('submission is idempotent: a second submit adopts the application instead of creating another', async () => {
    const { proxy, platform, dir, applications } = await cluster({ scenario: 'success' });
    const request = await attemptRequest(dir);
    const first = await platform.submit(request);
    const second = await platform.submit(request);
    expect(second).toEqual(first);
    const creates = proxy.requests().filter((r) => r.verb === 'create' && r.resource === 'sparkapplications');
    expect(creates.map((r) => r.status)).toEqual([201, 409]); // the second one was answered 409 and adopted
    expect(await applications()).toHaveLength(1);
    expect((await platform.await(first, awaitOptions())).kind).toBe('SUCCEEDED');
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
  });

  test("a name taken by another attempt's application is refused, never adopted", async () => {
    const { api, platform, dir } = await cluster({ scenario: 'stuck-submitted' });
    const request = await attemptRequest(dir);
    await api.create('sparkapplications', {
      metadata: { name: request.attemptId, labels: { 'nightjar.io/attempt-id': 'someone-else' } },
      spec: {
        type: 'Python',
        mode: 'cluster',
        sparkVersion: '4.0.1',
        mainApplicationFile: 'local:///opt/other/job.py',
        driver: { cores: 1, memory: '512m' },
        executor: { cores: 1, memory: '512m', instances: 1 },
      },
    });
    const error = await platform.submit(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: FailureType.SparkPlatformRejected, nonRetryable: true });
    expect((error as Error).message).toMatch(/belongs to attempt someone-else/);
  });

  test('executor OOM: the application is stopped after the limit and reported as executor OOM; then nothing is left', async () => {
    const { operator, platform, dir, leftovers } = await cluster({ scenario: { name: 'executor-oom', minExecutorMemoryMb: 2048 } });
    const request = await attemptRequest(dir);
    const handle = await platform.submit(request);
    const outcome = await platform.await(handle, awaitOptions());
    expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'executor' });
    expect(outcome.reason).toMatch(/2 executors lost to out-of-memory/);
    // Stopped by the await itself, before any cleanup ran.
    await operator.waitForStep(request.attemptId, 'deleted');
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  test('executor OOM then more memory: the next attempt succeeds', async () => {
    const { platform, dir, leftovers } = await cluster({ scenario: { name: 'executor-oom', minExecutorMemoryMb: 2048 } });
    const first = await attemptRequest(dir, { attempt: 1 });
    expect((await platform.await(await platform.submit(first), awaitOptions())).kind).toBe('OUT_OF_MEMORY');
    await platform.cleanup(first.attemptId);
    const second = await attemptRequest(dir, { attempt: 2, resources: { ...RESOURCES, executorMemoryMb: 2048 } });
    expect((await platform.await(await platform.submit(second), awaitOptions())).kind).toBe('SUCCEEDED');
    expect((await platform.cleanup(second.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  test('driver OOM is reported as driver OOM', async () => {
    const { platform, dir, leftovers } = await cluster({ scenario: { name: 'driver-oom', minDriverMemoryMb: 2048 } });
    const request = await attemptRequest(dir);
    const outcome = await platform.await(await platform.submit(request), awaitOptions());
    expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver' });
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  test('ImagePullBackOff is permanent and the waiting application is stopped', async () => {
    const { platform, dir, leftovers } = await cluster({ scenario: 'image-pull-backoff' });
    const request = await attemptRequest(dir);
    const outcome = await platform.await(await platform.submit(request), awaitOptions());
    expect(outcome.kind).toBe('PERMANENT');
    expect(outcome.reason).toMatch(/ImagePullBackOff|ErrImagePull/);
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  test('node eviction is transient', async () => {
    const { platform, dir, leftovers } = await cluster({ scenario: { name: 'eviction', times: 1 } });
    const request = await attemptRequest(dir);
    const outcome = await platform.await(await platform.submit(request), awaitOptions());
    expect(outcome.kind).toBe('TRANSIENT');
    expect(outcome.reason).toMatch(/evict/i);
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  test('stuck in SUBMITTED past the limit: timed out as transient, stopped, cleaned', async () => {
    const { platform, dir, leftovers } = await cluster({ scenario: { name: 'stuck-submitted', times: 5 } }, { stuckAfterMs: 3_000 });
    const request = await attemptRequest(dir);
    const outcome = await platform.await(await platform.submit(request), awaitOptions());
    expect(outcome.kind).toBe('TRANSIENT');
    expect(outcome.reason).toMatch(/stuck in SUBMITTED/);
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  test("an application error is permanent, with the driver container's exit in its diagnostics", async () => {
    const { operator, namespace, platform, dir, leftovers } = await cluster({ scenario: { name: 'application-error', error: 'ValueError: bad column amount' } });
    const request = await attemptRequest(dir);
    const outcome = await platform.await(await platform.submit(request), awaitOptions());
    expect(outcome.kind).toBe('PERMANENT');
    expect(outcome.diagnostics).toContain('driver container terminated: exit code 1 (Error)');
    // kwok's nodes run no container, so `pods/log` has nothing to serve and the platform reports
    // without the log's tail (it reads it when a kubelet serves one); the driver did print it.
    expect(outcome.diagnostics).not.toContain('--- driver log (last lines) ---');
    expect(operator.driverLog(namespace, `${request.attemptId}-driver`).join('\n')).toMatch(/ValueError: bad column amount/);
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  test('cleanup finds stragglers by label that no owner reference would remove', async () => {
    const { platform, dir, leftovers } = await cluster({ scenario: 'leaky' });
    const request = await attemptRequest(dir);
    expect((await platform.await(await platform.submit(request), awaitOptions())).kind).toBe('SUCCEEDED');
    const report = await platform.cleanup(request.attemptId);
    expect(report.removed).toEqual(expect.arrayContaining([expect.stringMatching(/^PersistentVolumeClaim\//), expect.stringMatching(/^Service\//)]));
    expect(report.remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
    // Idempotent: a second cleanup finds nothing and removes nothing.
    expect(await platform.cleanup(request.attemptId)).toEqual({ attemptId: request.attemptId, removed: [], remaining: 0 });
  });

  test('cancellation stops the application and returns at once', async () => {
    const { operator, platform, dir, leftovers } = await cluster({ scenario: { name: 'executor-oom', minExecutorMemoryMb: 2048 } }, { executorOomLimit: 1000 });
    const request = await attemptRequest(dir);
    const handle = await platform.submit(request);
    const cancel = new AbortController();
    const waiting = platform.await(handle, awaitOptions([], cancel.signal));
    await operator.waitForStep(request.attemptId, 'executor-oom');
    cancel.abort();
    expect(await waiting).toMatchObject({ kind: 'TRANSIENT', reason: 'cancelled' });
    await operator.waitForStep(request.attemptId, 'deleted');
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  test('detaching leaves the attempt running; a later await adopts it and sees it finish', async () => {
    const { api, operator, platform, dir } = await cluster({ scenario: 'success', timing: { runMs: 400 } });
    const request = await attemptRequest(dir);
    const handle = await platform.submit(request);
    const detach = new AbortController();
    const first = platform.await(handle, awaitOptions([], new AbortController().signal, detach.signal));
    await operator.waitForStep(request.attemptId, 'driver-running');
    detach.abort(new Error('WORKER_SHUTDOWN'));
    await expect(first).rejects.toThrow('WORKER_SHUTDOWN');
    expect(await api.get('sparkapplications', request.attemptId)).toBeDefined();
    expect((await platform.await(handle, awaitOptions())).kind).toBe('SUCCEEDED');
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
  });

  test('API faults and cut watches throughout a run: it still completes and leaves nothing', async () => {
    const { proxy, platform, dir, leftovers, applications } = await cluster({ scenario: 'success' });
    const request = await attemptRequest(dir);
    const cutter = setInterval(() => proxy.cutWatches(), 20);
    proxy.faults.next({ status: 500, verb: 'create', resource: 'sparkapplications', times: 1 });
    await expect(platform.submit(request)).rejects.toMatchObject({ transient: true, code: 500 });
    const handle = await platform.submit(request); // the activity's retry
    proxy.faults.next({ status: 429, verb: 'list', times: 3, retryAfterSeconds: 0 });
    proxy.faults.next({ status: 503, verb: 'get', times: 3 });
    proxy.faults.resetConnection({ verb: 'watch', when: 'after', times: 3 });
    expect((await platform.await(handle, awaitOptions())).kind).toBe('SUCCEEDED');
    proxy.faults.next({ status: 500, verb: 'delete', times: 1 });
    await expect(platform.cleanup(request.attemptId)).rejects.toMatchObject({ transient: true });
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0); // the activity's retry
    clearInterval(cutter);
    expect(await leftovers()).toEqual([]);
    expect(await applications()).toHaveLength(0);
  });

  test('fault episodes all through a run (429, 5xx, resets, cut watches, 410 on resume): the await sees the application complete', async () => {
    const { proxy, platform, dir, leftovers } = await cluster({ scenario: 'success', timing: { runMs: 1_500 } });
    const request = await attemptRequest(dir);
    const handle = await platform.submit(request);
    const episodes: (() => void)[] = [
      () => proxy.faults.next({ status: 429, times: 2, retryAfterSeconds: 0, withinMs: 20 }),
      () => proxy.faults.next({ status: 500, times: 2, withinMs: 20 }),
      () => proxy.faults.next({ status: 503, withinMs: 20 }),
      () => proxy.faults.resetConnection({ when: 'before', withinMs: 20 }),
      () => void proxy.cutWatches(),
      () => void proxy.expireWatches(),
    ];
    let done = false;
    const chaos = (async () => {
      for (let i = 0; !done; i += 1) {
        episodes[i % episodes.length]?.();
        await sleep(20);
      }
    })();
    const outcome = await platform.await(handle, awaitOptions()).finally(() => (done = true));
    await chaos;
    proxy.faults.clear();
    expect(outcome.kind).toBe('SUCCEEDED');
    expect(proxy.requests().filter((r) => r.fault !== undefined).length).toBeGreaterThan(0);
    // The watches were down part of the time: the poll fallback carried the await through.
    const stats = platform.watchStats();
    expect((stats?.apps.errors ?? 0) + (stats?.pods.errors ?? 0) + (stats?.events.errors ?? 0)).toBeGreaterThan(0);
    expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    expect(await leftovers()).toEqual([]);
  }, 30_000);

  test('while every API call fails the await keeps polling and says so in the log, then sees the application complete', async () => {
    const { proxy, namespace, dir } = await cluster({ scenario: 'success', timing: { runMs: 200 } });
    const lines: { msg: string; failures?: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) });
    const platform = new KubernetesSparkPlatform({ kubeConfig: proxy.kubeConfig(), settings: { ...TEST_SETTINGS, namespace, fallbackPollMs: 20 }, logger });
    try {
      const request = await attemptRequest(dir);
      const handle = await platform.submit(request);
      proxy.faults.next({ status: 503, times: 1_000_000 });
      const waiting = platform.await(handle, awaitOptions());
      const outage = 'Kubernetes API unavailable while awaiting the attempt; polling again';
      while (lines.filter((l) => l.msg === outage).length < 2) await sleep(20);
      expect(lines.filter((l) => l.msg === outage).map((l) => l.failures)).toEqual([1, 15]);
      proxy.faults.clear();
      expect((await waiting).kind).toBe('SUCCEEDED');
      expect(lines.find((l) => l.msg === 'Kubernetes API answering again')?.failures).toBeGreaterThanOrEqual(15);
      expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    } finally {
      await platform.close();
    }
  }, 30_000);

  test('watches are shared: many attempts at once use one connection per resource type', async () => {
    const { proxy, platform, dir, leftovers } = await cluster({ scenario: 'success' });
    const requests = await Promise.all(Array.from({ length: 20 }, () => attemptRequest(dir)));
    const handles = await Promise.all(requests.map((r) => platform.submit(r)));
    proxy.resetPeak();
    const outcomes = await Promise.all(handles.map((h) => platform.await(h, awaitOptions())));
    const peak = proxy.peakOpenWatches;
    expect(outcomes.every((o) => o.kind === 'SUCCEEDED')).toBe(true);
    expect(peak).toBeLessThanOrEqual(3);
    const reports = await Promise.all(requests.map((r) => platform.cleanup(r.attemptId)));
    expect(reports.map((r) => r.remaining)).toEqual(requests.map(() => 0));
    expect(await leftovers()).toEqual([]);
  }, 30_000);

  test('a namespace that does not exist is a typed, non-retryable refusal naming it', async () => {
    const { platform, dir } = await cluster({ scenario: 'success' }, { namespace: 'no-such-namespace' });
    const error = await platform.submit(await attemptRequest(dir)).catch((e: unknown) => e);
    expect(error).toMatchObject({ type: FailureType.SparkPlatformRejected, nonRetryable: true });
    expect((error as Error).message).toMatch(/no-such-namespace/);
  });

  test('a server error while creating the spec ConfigMap stays retryable, and the retry goes through', async () => {
    const { proxy, platform, dir, applications } = await cluster({ scenario: 'success' });
    const request = await attemptRequest(dir);
    proxy.faults.next({ status: 503, verb: 'create', resource: 'configmaps', times: 1 });
    await expect(platform.submit(request)).rejects.toMatchObject({ transient: true, code: 503 });
    expect(await platform.submit(request)).toMatchObject({ attemptId: request.attemptId });
    expect(await applications()).toHaveLength(1);
  });
});
