import { rejectionOf, statusOf, useFakeCluster, SPARK, sparkApplication } from './harness';

describe('with a list of namespaces', () => {
  const cluster = useFakeCluster({ namespaces: ['nightly'] });

  test('creating in a namespace that does not exist answers 404 naming the namespace, as the real server does', async () => {
    const { custom, core } = cluster();
    const error = await rejectionOf(custom.createNamespacedCustomObject({ ...SPARK, namespace: 'missing', body: sparkApplication('app') }));
    expect(error.code).toBe(404);
    expect(statusOf(error)).toMatchObject({ reason: 'NotFound', message: 'namespaces "missing" not found' });
    const cm = await rejectionOf(core.createNamespacedConfigMap({ namespace: 'missing', body: { metadata: { name: 'c' } } }));
    expect(cm.code).toBe(404);
  });

  test('the listed namespace works as usual', async () => {
    const { custom } = cluster();
    await expect(custom.createNamespacedCustomObject({ ...SPARK, namespace: 'nightly', body: sparkApplication('app') })).resolves.toMatchObject({
      metadata: { name: 'app', namespace: 'nightly' },
    });
  });
});

describe('without a list', () => {
  const cluster = useFakeCluster();

  test('every namespace exists', async () => {
    const { core } = cluster();
    await expect(core.createNamespacedConfigMap({ namespace: 'anything', body: { metadata: { name: 'c' } } })).resolves.toMatchObject({ metadata: { name: 'c' } });
  });
});
