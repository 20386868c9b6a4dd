import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { NAMESPACE, SPARK, rejectionOf, sparkApplication, statusOf, useFakeCluster } from './harness';

const cluster = useFakeCluster();
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function createApp(name: string, labels: Record<string, string> = {}) {
  return cluster().custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: sparkApplication(name, labels) });
}

test('create fills in uid, creationTimestamp, generation and resourceVersion, drops status, and get returns the same object', async () => {
  const { custom, server } = cluster();
  const body = { ...sparkApplication('ingest-20240628'), status: { applicationState: { state: 'COMPLETED' } } };
  const created = await custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body });

  expect(created).toMatchObject({ apiVersion: 'sparkoperator.k8s.io/v1beta2', kind: 'SparkApplication' });
  expect(created.metadata).toEqual({
    name: 'ingest-20240628',
    namespace: NAMESPACE,
    labels: {},
    uid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    resourceVersion: server.resourceVersion,
    generation: 1,
    creationTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
  });
  expect(created.status).toBeUndefined();
  await expect(custom.getNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest-20240628' })).resolves.toEqual(created);
});

test('a second create of the same name is a 409 AlreadyExists Status shaped like the API server', async () => {
  await createApp('ingest-20240628');
  const error = await rejectionOf(createApp('ingest-20240628'));
  expect(error.code).toBe(409);
  expect(statusOf(error)).toEqual({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'sparkapplications.sparkoperator.k8s.io "ingest-20240628" already exists',
    reason: 'AlreadyExists',
    details: { name: 'ingest-20240628', group: 'sparkoperator.k8s.io', kind: 'sparkapplications' },
    code: 409,
  });
});

test('get of a missing object is a 404 NotFound Status', async () => {
  const error = await rejectionOf(cluster().custom.getNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'nope' }));
  expect(error.code).toBe(404);
  expect(statusOf(error)).toMatchObject({
    status: 'Failure',
    reason: 'NotFound',
    message: 'sparkapplications.sparkoperator.k8s.io "nope" not found',
    details: { name: 'nope', group: 'sparkoperator.k8s.io', kind: 'sparkapplications' },
    code: 404,
  });
});

test('a body without metadata.name is a 422 Invalid Status naming the field', async () => {
  const body = { ...sparkApplication('x'), metadata: { labels: { job: 'ingest' } } };
  const error = await rejectionOf(cluster().custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body }));
  expect(error.code).toBe(422);
  expect(statusOf(error)).toEqual({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'SparkApplication.sparkoperator.k8s.io "" is invalid: metadata.name: Required value: name or generateName is required',
    reason: 'Invalid',
    details: {
      group: 'sparkoperator.k8s.io',
      kind: 'SparkApplication',
      causes: [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }],
    },
    code: 422,
  });
});

test('a body of another kind is a 422 Invalid; a name that is not a DNS subdomain is a 422; another namespace is a 400', async () => {
  const { custom } = cluster();
  const wrongKind = await rejectionOf(
    custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: { ...sparkApplication('a'), kind: 'ScheduledSparkApplication' } }),
  );
  expect(wrongKind.code).toBe(422);
  expect(statusOf(wrongKind).details?.causes).toEqual([
    { reason: 'FieldValueInvalid', message: 'Invalid value: "ScheduledSparkApplication": must be SparkApplication', field: 'kind' },
  ]);

  const badName = await rejectionOf(createApp('Ingest_2024'));
  expect(badName.code).toBe(422);
  expect(statusOf(badName).message).toMatch(/^SparkApplication.sparkoperator.k8s.io "Ingest_2024" is invalid: metadata.name: Invalid value: "Ingest_2024": a lowercase RFC 1123 subdomain/);

  const longLabel = await rejectionOf(createApp('a', { 'sparkoperator.k8s.io/app-name': 'x'.repeat(64) }));
  expect(longLabel.code).toBe(422);
  expect(statusOf(longLabel).details?.causes?.[0]).toMatchObject({ field: 'metadata.labels', message: expect.stringContaining('must be no more than 63 characters') });

  // The API server answers a namespace mismatch with 400 BadRequest, not 422.
  const otherNamespace = { ...sparkApplication('a'), metadata: { name: 'a', namespace: 'elsewhere' } };
  const wrongNamespace = await rejectionOf(custom.createNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, body: otherNamespace }));
  expect(wrongNamespace.code).toBe(400);
  expect(statusOf(wrongNamespace)).toMatchObject({
    reason: 'BadRequest',
    message: 'the namespace of the provided object does not match the namespace sent on the request',
  });
});

test('list answers a SparkApplicationList at the current resourceVersion, filtered by label and field selectors', async () => {
  const { custom, server } = cluster();
  await createApp('ingest-0628', { job: 'ingest', date: '2024-06-28' });
  await createApp('normalize-0628', { job: 'normalize', date: '2024-06-28' });
  await createApp('ingest-0627', { job: 'ingest', date: '2024-06-27', retry: '1' });
  await custom.createNamespacedCustomObject({ ...SPARK, namespace: 'other', body: sparkApplication('ingest-0628', { job: 'ingest' }) });

  const all = await custom.listNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE });
  expect(all).toMatchObject({ kind: 'SparkApplicationList', apiVersion: 'sparkoperator.k8s.io/v1beta2', metadata: { resourceVersion: server.resourceVersion } });
  expect(all.items.map((i: { kind: string }) => i.kind)).toEqual(['SparkApplication', 'SparkApplication', 'SparkApplication']);

  const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> => {
    const list = await custom.listNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, labelSelector, fieldSelector });
    return list.items.map((item: { metadata: { name: string } }) => item.metadata.name);
  };
  expect(await names('job=ingest')).toEqual(['ingest-0627', 'ingest-0628']);
  expect(await names('job==ingest,date=2024-06-28')).toEqual(['ingest-0628']);
  expect(await names('job!=ingest')).toEqual(['normalize-0628']);
  expect(await names('retry')).toEqual(['ingest-0627']);
  expect(await names('!retry')).toEqual(['ingest-0628', 'normalize-0628']);
  expect(await names('job in (normalize, ingest),date notin (2024-06-27)')).toEqual(['ingest-0628', 'normalize-0628']);
  expect(await names('retry>0')).toEqual(['ingest-0627']);
  expect(await names(undefined, 'metadata.name=normalize-0628')).toEqual(['normalize-0628']);
  expect(await names('job=ingest', 'metadata.name!=ingest-0627')).toEqual(['ingest-0628']);

  const badLabel = await rejectionOf(custom.listNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, labelSelector: 'job in ()' }));
  expect(badLabel.code).toBe(400);
  const badField = await rejectionOf(custom.listNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, fieldSelector: 'spec.image=x' }));
  expect(badField.code).toBe(400);
  expect(statusOf(badField).message).toContain('field label not supported: spec.image');
});

test('list pages with limit and continue from one consistent snapshot', async () => {
  const { custom } = cluster();
  for (const day of ['01', '02', '03']) await createApp(`ingest-${day}`);
  const first = await custom.listNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, limit: 2 });
  expect(first.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['ingest-01', 'ingest-02']);
  expect(first.metadata.remainingItemCount).toBe(1);
  await createApp('ingest-04');
  const second = await custom.listNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, limit: 2, _continue: first.metadata.continue });
  expect(second.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['ingest-03']);
  expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
});

test('a merge patch of /status changes only the status, keeps generation and bumps resourceVersion', async () => {
  const { custom } = cluster();
  const created = await createApp('ingest-20240628');
  const patched = await custom.patchNamespacedCustomObjectStatus(
    {
      ...SPARK,
      namespace: NAMESPACE,
      name: 'ingest-20240628',
      body: { status: { applicationState: { state: 'RUNNING' }, driverInfo: { podName: 'ingest-20240628-driver' } }, spec: { image: 'ignored' } },
    },
    mergePatch,
  );
  expect(patched.status).toEqual({ applicationState: { state: 'RUNNING' }, driverInfo: { podName: 'ingest-20240628-driver' } });
  expect(patched.spec.image).toBe('nightjar/spark:1');
  expect(patched.metadata.generation).toBe(1);
  expect(Number(patched.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));

  // null removes a field, as RFC 7386 says.
  const cleared = await custom.patchNamespacedCustomObjectStatus(
    { ...SPARK, namespace: NAMESPACE, name: 'ingest-20240628', body: { status: { driverInfo: null } } },
    mergePatch,
  );
  expect(cleared.status).toEqual({ applicationState: { state: 'RUNNING' } });
});

test('status sent to the main resource is ignored, and a spec change bumps generation', async () => {
  const { custom } = cluster();
  await createApp('ingest-20240628');
  const patched = await custom.patchNamespacedCustomObject(
    { ...SPARK, namespace: NAMESPACE, name: 'ingest-20240628', body: { spec: { image: 'nightjar/spark:2' }, status: { applicationState: { state: 'FAILED' } } } },
    mergePatch,
  );
  expect(patched.spec.image).toBe('nightjar/spark:2');
  expect(patched.status).toBeUndefined();
  expect(patched.metadata.generation).toBe(2);

  const labelled = await custom.patchNamespacedCustomObject(
    { ...SPARK, namespace: NAMESPACE, name: 'ingest-20240628', body: { metadata: { labels: { attempt: '2' } } } },
    mergePatch,
  );
  expect(labelled.metadata.generation).toBe(2);
});

test('a patch that changes nothing is not a write: same resourceVersion', async () => {
  const { custom } = cluster();
  const created = await createApp('ingest-20240628', { job: 'ingest' });
  const same = await custom.patchNamespacedCustomObject(
    { ...SPARK, namespace: NAMESPACE, name: 'ingest-20240628', body: { metadata: { labels: { job: 'ingest' } } } },
    mergePatch,
  );
  expect(same.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
});

test("client-node's default patch content type is json-patch: operations apply, and a failed test operation is a 422", async () => {
  const { custom, server } = cluster();
  await createApp('ingest-20240628');
  const patched = await custom.patchNamespacedCustomObject({
    ...SPARK,
    namespace: NAMESPACE,
    name: 'ingest-20240628',
    body: [
      { op: 'test', path: '/spec/image', value: 'nightjar/spark:1' },
      { op: 'replace', path: '/spec/image', value: 'nightjar/spark:2' },
      { op: 'add', path: '/spec/arguments', value: ['--date', '2024-06-28'] },
      { op: 'add', path: '/spec/arguments/-', value: '--full' },
    ],
  });
  expect(patched.spec).toMatchObject({ image: 'nightjar/spark:2', arguments: ['--date', '2024-06-28', '--full'] });
  expect(server.requests().at(-1)?.verb).toBe('patch');

  const failed = await rejectionOf(
    custom.patchNamespacedCustomObject({
      ...SPARK,
      namespace: NAMESPACE,
      name: 'ingest-20240628',
      body: [{ op: 'test', path: '/spec/image', value: 'nightjar/spark:1' }],
    }),
  );
  expect(failed.code).toBe(422);
  expect(statusOf(failed).reason).toBe('Invalid');
});

test('replace needs the current resourceVersion: stale is a 409 Conflict, missing is a 422 for a custom resource', async () => {
  const { custom } = cluster();
  const created = await createApp('ingest-20240628');
  const updated = await custom.replaceNamespacedCustomObject({
    ...SPARK,
    namespace: NAMESPACE,
    name: 'ingest-20240628',
    body: { ...created, spec: { ...created.spec, image: 'nightjar/spark:2' } },
  });
  expect(updated.metadata.generation).toBe(2);

  const stale = await rejectionOf(
    custom.replaceNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest-20240628', body: { ...created, spec: { image: 'x' } } }),
  );
  expect(stale.code).toBe(409);
  expect(statusOf(stale)).toMatchObject({
    reason: 'Conflict',
    message:
      'Operation cannot be fulfilled on sparkapplications.sparkoperator.k8s.io "ingest-20240628": the object has been modified; please apply your changes to the latest version and try again',
  });

  const { resourceVersion: _dropped, ...metadata } = updated.metadata;
  const unconditional = await rejectionOf(
    custom.replaceNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, name: 'ingest-20240628', body: { ...updated, metadata } }),
  );
  expect(unconditional.code).toBe(422);
  expect(statusOf(unconditional).message).toContain('metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
});

test('deletecollection removes what the label selector matches and nothing else', async () => {
  const { custom } = cluster();
  await createApp('ingest-0628', { date: '2024-06-28' });
  await createApp('normalize-0628', { date: '2024-06-28' });
  await createApp('ingest-0627', { date: '2024-06-27' });
  const deleted = await custom.deleteCollectionNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE, labelSelector: 'date=2024-06-28' });
  expect(deleted.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['ingest-0628', 'normalize-0628']);
  const left = await custom.listNamespacedCustomObject({ ...SPARK, namespace: NAMESPACE });
  expect(left.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['ingest-0627']);
});
