import { fitsWarmDriver, sessionConf, sessionUrl, warmDriverArgs, WARM_DRIVER_PROPERTY, type WarmDriverOptions } from '../../src/spark/local/warm-driver';
import type { SparkResources } from '../../src/domain/spark/resources';

const RESOURCES: SparkResources = {
  driverMemoryMb: 1024,
  driverCores: 2,
  executorMemoryMb: 2048,
  executorCores: 1,
  executorInstances: 2,
  memoryOverheadMb: null,
  shufflePartitions: 8,
};
const WARM: WarmDriverOptions = {
  slots: 2,
  slotMemoryMb: 1024,
  cores: 2,
  sparkSubmit: '/opt/spark/bin/spark-submit',
  pythonPath: '/opt/venv/bin/python',
  stateDir: '/data/work/spark-warm-driver',
  javaOptions: ['-XX:+UseParallelGC'],
};

test("only a short attempt with a slot's memory and no more cores than the server runs on the warm driver", () => {
  expect(fitsWarmDriver({ resources: RESOURCES }, WARM, true)).toBe(true);
  expect(fitsWarmDriver({ resources: RESOURCES }, WARM, false)).toBe(false);
  // After an out-of-memory the attempt has more memory than a slot: it runs cold, with what it records.
  expect(fitsWarmDriver({ resources: { ...RESOURCES, driverMemoryMb: 2048 } }, WARM, true)).toBe(false);
  // Less would be dishonest too: it would have had the slot's heap while recording (and teaching the sizing) 512 MiB.
  expect(fitsWarmDriver({ resources: { ...RESOURCES, driverMemoryMb: 512 } }, WARM, true)).toBe(false);
  expect(fitsWarmDriver({ resources: { ...RESOURCES, driverCores: 1 } }, WARM, true)).toBe(true);
  expect(fitsWarmDriver({ resources: { ...RESOURCES, driverCores: 4 } }, WARM, true)).toBe(false);
  expect(fitsWarmDriver({ resources: RESOURCES }, { ...WARM, slots: 0 }, true)).toBe(false);
});

test("an attempt's session id is a UUID derived from the attempt id alone", () => {
  const url = sessionUrl(15002, 'nj-20261120-normalize-abc-a1');
  expect(url).toMatch(/^sc:\/\/127\.0\.0\.1:15002\/;session_id=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(sessionUrl(15002, 'nj-20261120-normalize-abc-a1')).toBe(url);
  expect(sessionUrl(40000, 'nj-20261120-normalize-abc-a1').split('=')[1]).toBe(url.split('=')[1]);
  expect(sessionUrl(15002, 'nj-20261120-normalize-abc-a2')).not.toBe(url);
});

test('a session takes the runtime SQL settings of the attempt, never the JVM or context ones', () => {
  expect(
    sessionConf({
      'spark.sql.shuffle.partitions': '8',
      'spark.sql.adaptive.enabled': 'true',
      'spark.submit.pyFiles': '/w/nightjar_spark.zip',
      'spark.driver.extraJavaOptions': '-Xss4m',
      'spark.ui.enabled': 'false',
    }),
  ).toEqual({ 'spark.sql.shuffle.partitions': '8', 'spark.sql.adaptive.enabled': 'true' });
});

test('the server: Spark Connect on the loopback only, a heap of every slot, exits on its first OutOfMemoryError, marked as ours', () => {
  const args = warmDriverArgs(WARM, 41234, 'k3y');
  const conf = (key: string) => args[args.indexOf('--conf', args.findIndex((a) => a.startsWith(`${key}=`)) - 1) + 1]?.slice(key.length + 1);
  expect(args.slice(0, 2)).toEqual(['--class', 'org.apache.spark.sql.connect.service.SparkConnectServer']);
  expect(args[args.indexOf('--master') + 1]).toBe('local[2]');
  expect(args[args.indexOf('--driver-memory') + 1]).toBe('2048m');
  expect(conf('spark.connect.grpc.binding.address')).toBe('127.0.0.1');
  expect(conf('spark.connect.grpc.binding.port')).toBe('41234');
  const java = conf('spark.driver.extraJavaOptions')!.split(' ');
  expect(java[0]).toBe('-XX:+UseParallelGC');
  expect(java).toContain('-XX:+ExitOnOutOfMemoryError');
  expect(java).toContain(`${WARM_DRIVER_PROPERTY}=k3y`);
  expect(conf('spark.local.dir')).toBe('/data/work/spark-warm-driver/tmp');
});
