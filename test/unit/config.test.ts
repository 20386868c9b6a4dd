import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';

const root = '/opt/nightjar';

test('defaults describe the embedded set-up: PGlite, local Spark, dev server', () => {
  const c = loadConfig({}, root);
  expect(c.dataDir).toBe('/opt/nightjar/.data');
  expect(c.reporting).toEqual({ kind: 'pglite', dataDir: '/opt/nightjar/.data/reporting/pglite' });
  expect(c.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'nightjar' });
  expect(c.spark.sparkSubmit).toBe('/opt/nightjar/.venv/bin/spark-submit');
  expect(c.spark.defaults.normalize.driverMemoryMb).toBe(1024);
  expect(c.log.redact).toBe(true);
});

test('numbers are coerced and validated', () => {
  const c = loadConfig({ NIGHTJAR_SPARK_DRIVER_MEMORY_MB: '2048', NIGHTJAR_OOM_MEMORY_FACTOR: '1.5' }, root);
  expect(c.spark.defaults.transform.driverMemoryMb).toBe(2048);
  expect(c.spark.escalation.memoryFactor).toBe(1.5);
});

test('booleans are strict: "false" means false and a typo is an error naming the variable', () => {
  expect(loadConfig({ NIGHTJAR_LOG_REDACT: 'false' }, root).log.redact).toBe(false);
  expect(() => loadConfig({ NIGHTJAR_LOG_REDACT: 'flase' }, root)).toThrow(/NIGHTJAR_LOG_REDACT="flase": expected one of: true, false/);
});

test('every problem is reported at once, each naming its variable and value', () => {
  let error: unknown;
  try {
    loadConfig({ NIGHTJAR_SPARK_DRIVER_MEMORY_MB: '12', NIGHTJAR_REPORTING_STORE: 'oracle', NIGHTJAR_REPORTING_CURRENCY: 'euro' }, root);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems;
  expect(problems).toHaveLength(3);
  expect(problems.join('\n')).toMatch(/NIGHTJAR_SPARK_DRIVER_MEMORY_MB="12": must be at least 256 MiB/);
  expect(problems.join('\n')).toMatch(/NIGHTJAR_REPORTING_STORE="oracle"/);
  expect(problems.join('\n')).toMatch(/NIGHTJAR_REPORTING_CURRENCY="euro": expected an ISO 4217 code/);
});

test('the PostgreSQL store needs a URL', () => {
  expect(() => loadConfig({ NIGHTJAR_REPORTING_STORE: 'postgres' }, root)).toThrow(/NIGHTJAR_REPORTING_PG_URL.*required when NIGHTJAR_REPORTING_STORE=postgres/);
  expect(loadConfig({ NIGHTJAR_REPORTING_STORE: 'postgres', NIGHTJAR_REPORTING_PG_URL: 'postgres://u:p@h/db' }, root).reporting).toEqual({
    kind: 'postgres',
    url: 'postgres://u:p@h/db',
  });
});

describe('the Kubernetes platform', () => {
  const k8s = { NIGHTJAR_SPARK_PLATFORM: 'kubernetes', NIGHTJAR_K8S_NAMESPACE: 'bank-nightly', NIGHTJAR_K8S_IMAGE: 'registry.bank/nightjar-spark:1.4.2' };

  test('needs a namespace and an image, and says so naming both', () => {
    expect(() => loadConfig({ NIGHTJAR_SPARK_PLATFORM: 'kubernetes' }, root)).toThrow(/NIGHTJAR_K8S_NAMESPACE.*required when NIGHTJAR_SPARK_PLATFORM=kubernetes[\s\S]*NIGHTJAR_K8S_IMAGE.*required/);
  });

  test('settings with their defaults: pod identity, timings, the configured kubeconfig lookup', () => {
    const c = loadConfig(k8s, root);
    expect(c.spark.platform).toBe('kubernetes');
    expect(c.spark.kubernetes?.config).toEqual({ kind: 'default' });
    expect(c.spark.kubernetes?.settings).toMatchObject({
      namespace: 'bank-nightly',
      image: 'registry.bank/nightjar-spark:1.4.2',
      serviceAccount: 'nightjar-spark',
      imageJobsDir: '/opt/nightjar/spark',
      executorOomLimit: 2,
      stuckAfterMs: 600_000,
      pollIntervalMs: 30_000,
      cleanupTimeoutMs: 60_000,
    });
    expect(c.spark.kubernetes?.settings.locality).toBeUndefined();
    expect(loadConfig({}, root).spark.kubernetes).toBeUndefined();
  });

  test('placement, locality, gang scheduling, Secrets by reference and the data volume', () => {
    const c = loadConfig(
      {
        ...k8s,
        NIGHTJAR_K8S_CONFIG: 'in-cluster',
        NIGHTJAR_K8S_NODE_SELECTOR: 'pool=spark,disk=ssd',
        NIGHTJAR_K8S_TOLERATIONS: '[{"key":"batch","operator":"Exists","effect":"NoSchedule"}]',
        NIGHTJAR_K8S_LOCALITY: 'eu-west-1a, eu-west-1b',
        NIGHTJAR_K8S_LOCALITY_REQUIRED: 'true',
        NIGHTJAR_K8S_BATCH_SCHEDULER: 'volcano',
        NIGHTJAR_K8S_BATCH_QUEUE: 'nightly',
        NIGHTJAR_K8S_SECRET_ENV: 'AWS_ACCESS_KEY_ID=lake-creds:access-key,AWS_SECRET_ACCESS_KEY=lake-creds:secret-key',
        NIGHTJAR_K8S_DATA_PVC: 'nightjar-data',
      },
      root,
    );
    const s = c.spark.kubernetes?.settings;
    expect(c.spark.kubernetes?.config).toEqual({ kind: 'in-cluster' });
    expect(s?.placement).toEqual({ nodeSelector: { pool: 'spark', disk: 'ssd' }, tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }] });
    expect(s?.locality).toEqual({ topologyKey: 'topology.kubernetes.io/zone', values: ['eu-west-1a', 'eu-west-1b'], required: true });
    expect(s?.batchScheduler).toEqual({ name: 'volcano', queue: 'nightly' });
    expect(s?.secretEnv).toEqual([
      { name: 'AWS_ACCESS_KEY_ID', secretName: 'lake-creds', key: 'access-key' },
      { name: 'AWS_SECRET_ACCESS_KEY', secretName: 'lake-creds', key: 'secret-key' },
    ]);
    expect(s?.dataVolume).toEqual({ claimName: 'nightjar-data', mountPath: '/opt/nightjar/.data' });
  });

  test('malformed structured values name the variable and the expected form', () => {
    expect(() => loadConfig({ ...k8s, NIGHTJAR_K8S_TOLERATIONS: '{"key":1}' }, root)).toThrow(/NIGHTJAR_K8S_TOLERATIONS=.*expected a JSON array/);
    expect(() => loadConfig({ ...k8s, NIGHTJAR_K8S_SECRET_ENV: 'TOKEN=plain-value' }, root)).toThrow(/NIGHTJAR_K8S_SECRET_ENV=.*NAME=secret:key/);
    expect(() => loadConfig({ ...k8s, NIGHTJAR_K8S_NODE_SELECTOR: 'pool' }, root)).toThrow(/NIGHTJAR_K8S_NODE_SELECTOR=.*key=value/);
    expect(() => loadConfig({ ...k8s, NIGHTJAR_K8S_BATCH_QUEUE: 'q' }, root)).toThrow(/NIGHTJAR_K8S_BATCH_QUEUE.*needs NIGHTJAR_K8S_BATCH_SCHEDULER/);
    expect(() => loadConfig({ ...k8s, NIGHTJAR_K8S_NAMESPACE: 'Bank_Nightly' }, root)).toThrow(/NIGHTJAR_K8S_NAMESPACE="Bank_Nightly": expected a Kubernetes namespace name/);
  });
});

test('escalation caps, learned sizing and the janitor interval', () => {
  const c = loadConfig(
    {
      NIGHTJAR_OOM_EXECUTOR_INSTANCES_FACTOR: '0.5',
      NIGHTJAR_OOM_MAX_TOTAL_MEMORY_MB: '65536',
      NIGHTJAR_SIZING_STEP_DOWN_AFTER: '3',
      NIGHTJAR_JANITOR_EVERY_SECONDS: '3600',
    },
    root,
  );
  expect(c.spark.escalation).toMatchObject({ executorInstancesFactor: 0.5, maxTotalMemoryMb: 65536 });
  expect(c.spark.sizing).toEqual({ learn: true, policy: { stepDownAfterCleanNights: 3, stepDownFactor: 2 } });
  expect(c.janitor).toEqual({ everySeconds: 3600, minAgeSeconds: 1800 });
  expect(loadConfig({}, root).janitor.everySeconds).toBe(0);
  expect(loadConfig({ NIGHTJAR_JANITOR_EVERY_SECONDS: 'off' }, root).janitor.everySeconds).toBe(0);
  expect(() => loadConfig({ NIGHTJAR_JANITOR_EVERY_SECONDS: 'hourly' }, root)).toThrow(/NIGHTJAR_JANITOR_EVERY_SECONDS="hourly"/);
});

test('per-job sizes and escalation policies, as JSON checked field by field', () => {
  const c = loadConfig(
    {
      NIGHTJAR_SPARK_JOB_RESOURCES: '{"transform": {"executorMemoryMb": 4096, "executorInstances": 4}}',
      NIGHTJAR_OOM_JOB_POLICY: '{"transform": {"maxExecutorMemoryMb": 32768, "maxTotalMemoryMb": 131072}}',
    },
    root,
  );
  expect(c.spark.defaults.transform).toMatchObject({ executorMemoryMb: 4096, executorInstances: 4, driverMemoryMb: 1024 });
  expect(c.spark.defaults.normalize.executorMemoryMb).toBe(2048);
  expect(c.spark.escalationByJob.transform).toMatchObject({ maxExecutorMemoryMb: 32768, maxTotalMemoryMb: 131072, memoryFactor: 2 });
  expect(c.spark.escalationByJob.normalize).toEqual(c.spark.escalation);

  expect(() => loadConfig({ NIGHTJAR_SPARK_JOB_RESOURCES: '{"transform": {"executorMemory": "4g"}}' }, root)).toThrow(
    /NIGHTJAR_SPARK_JOB_RESOURCES=.*transform: unexpected executorMemory/,
  );
  expect(() => loadConfig({ NIGHTJAR_OOM_JOB_POLICY: '{"aggregate": {}}' }, root)).toThrow(/NIGHTJAR_OOM_JOB_POLICY=.*unexpected aggregate/);
  expect(() => loadConfig({ NIGHTJAR_OOM_JOB_POLICY: '{"transform": {"memoryFactor": 1}}' }, root)).toThrow(/NIGHTJAR_OOM_JOB_POLICY=.*transform\.memoryFactor/);
  expect(() => loadConfig({ NIGHTJAR_OOM_JOB_POLICY: 'transform=2' }, root)).toThrow(/NIGHTJAR_OOM_JOB_POLICY=.*expected JSON/);
});

describe('secrets from files (<NAME>_FILE)', () => {
  const files: Record<string, string> = {
    '/run/secrets/db/url': 'postgres://nightjar:s3cret@db:5432/reporting\n',
    '/run/secrets/http/tokens': 'token-aaaaaaaaaaaaaaaa\n\ntoken-bbbbbbbbbbbbbbbb\n',
    '/run/secrets/empty': '\n',
  };
  const read = (file: string): string => {
    const content = files[file];
    if (content === undefined) throw new Error(`ENOENT: no such file or directory, open '${file}'`);
    return content;
  };

  test('a file replaces the variable: one value trimmed, token lists one per line', () => {
    const config = loadConfig(
      { NIGHTJAR_REPORTING_STORE: 'postgres', NIGHTJAR_REPORTING_PG_URL_FILE: '/run/secrets/db/url', NIGHTJAR_HTTP_TOKENS_FILE: '/run/secrets/http/tokens' },
      '/repo',
      read,
    );
    expect(config.reporting).toEqual({ kind: 'postgres', url: 'postgres://nightjar:s3cret@db:5432/reporting' });
    expect(config.http.tokens).toEqual(['token-aaaaaaaaaaaaaaaa', 'token-bbbbbbbbbbbbbbbb']);
  });

  test('both forms, an unreadable file or an empty one are refused, naming the variable', () => {
    expect(() => loadConfig({ NIGHTJAR_CODEC_TOKENS: 'x'.repeat(16), NIGHTJAR_CODEC_TOKENS_FILE: '/run/secrets/http/tokens' }, '/repo', read)).toThrow(
      /NIGHTJAR_CODEC_TOKENS_FILE="\/run\/secrets\/http\/tokens": set either NIGHTJAR_CODEC_TOKENS or NIGHTJAR_CODEC_TOKENS_FILE/,
    );
    expect(() => loadConfig({ NIGHTJAR_REPORTING_PG_URL_FILE: '/run/secrets/missing' }, '/repo', read)).toThrow(/NIGHTJAR_REPORTING_PG_URL_FILE=.*cannot read the file \(ENOENT/);
    expect(() => loadConfig({ NIGHTJAR_HTTP_TOKENS_FILE: '/run/secrets/empty' }, '/repo', read)).toThrow(/NIGHTJAR_HTTP_TOKENS_FILE=.*the file is empty/);
  });

  test('a bad secret is named in the error, never shown', () => {
    let message = '';
    try {
      loadConfig({ NIGHTJAR_HTTP_TOKENS: 'short-secret' }, '/repo', read);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/NIGHTJAR_HTTP_TOKENS=\(secret, not shown\): tokens must be at least 16 characters/);
    expect(message).not.toContain('short-secret');
  });
});

test('the systemd example environment parses (deploy/systemd/worker.env.example)', () => {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', 'deploy', 'systemd', 'worker.env.example'), 'utf8');
  const env = Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const config = loadConfig(env, '/opt/nightjar', () => 'postgres://nightjar:pw@reporting-db.internal:5432/reporting');
  expect(config.reporting.kind).toBe('postgres');
  expect(config.encryption).toEqual({ keysDir: '/etc/nightjar/keys', activeKeyId: 'k2026-11', plaintext: 'accept' });
  expect(config.temporal.tls?.certFile).toBe('/etc/nightjar/tls/client.crt');
});

test('the local driver JVM: none for every job by default, short-job options below a size, long-job options above, "none", and a malformed value named', () => {
  const c = loadConfig({}, root).spark;
  expect(c.driverJavaOptions).toEqual([]);
  expect(c.shortJob).toEqual({ maxInputBytes: { normalize: 32 * 2 ** 20, transform: 128 * 2 ** 20 }, javaOptions: ['-XX:TieredStopAtLevel=1', '-XX:+UseParallelGC', '-XX:ParallelGCThreads=1'] });
  expect(c.longJob).toEqual({ javaOptions: ['-XX:+UseParallelGC'] });
  expect(loadConfig({ NIGHTJAR_SPARK_LONG_JOB_JAVA_OPTIONS: 'none' }, root).spark.longJob).toEqual({ javaOptions: [] });
  expect(() => loadConfig({ NIGHTJAR_SPARK_LONG_JOB_JAVA_OPTIONS: 'UseParallelGC' }, root)).toThrow(/NIGHTJAR_SPARK_LONG_JOB_JAVA_OPTIONS="UseParallelGC": expected JVM options/);
  expect(loadConfig({ NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS: ' -Xss4m   -XX:+AlwaysPreTouch ' }, root).spark.driverJavaOptions).toEqual(['-Xss4m', '-XX:+AlwaysPreTouch']);
  expect(loadConfig({ NIGHTJAR_SPARK_SHORT_JOB_JAVA_OPTIONS: 'none', NIGHTJAR_SPARK_SHORT_JOB_MAX_INPUT_MB: '0.5' }, root).spark.shortJob).toEqual({ maxInputBytes: { normalize: 524288, transform: 524288 }, javaOptions: [] });
  expect(loadConfig({ NIGHTJAR_SPARK_SHORT_JOB_MAX_INPUT_MB: '{"transform": 64}' }, root).spark.shortJob.maxInputBytes).toEqual({ normalize: 32 * 2 ** 20, transform: 64 * 2 ** 20 });
  for (const [value, message] of [
    ['-1', 'must not be negative'],
    ['lots', 'expected a number of MiB, or JSON such as {"normalize": 32, "transform": 128}'],
    ['{"transform": "64"}', 'transform: expected a number of MiB'],
    ['{"export": 1}', '(root): unexpected export'],
    ['{"transform": 64', 'expected JSON such as {"normalize": 32, "transform": 128}'],
  ]) {
    expect(() => loadConfig({ NIGHTJAR_SPARK_SHORT_JOB_MAX_INPUT_MB: value }, root)).toThrow(`NIGHTJAR_SPARK_SHORT_JOB_MAX_INPUT_MB=${JSON.stringify(value)}: ${message}`);
  }
  // The JVM refuses two collectors: the driver's own options choose one only when neither job size does.
  expect(() => loadConfig({ NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS: '-XX:+UseG1GC' }, root)).toThrow(
    'NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS="-XX:+UseG1GC": chooses a collector (-XX:+UseG1GC) and NIGHTJAR_SPARK_SHORT_JOB_JAVA_OPTIONS chooses another (-XX:+UseParallelGC)',
  );
  expect(() => loadConfig({ NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS: '-XX:+UseG1GC', NIGHTJAR_SPARK_SHORT_JOB_JAVA_OPTIONS: 'none' }, root)).toThrow(/NIGHTJAR_SPARK_LONG_JOB_JAVA_OPTIONS chooses another \(-XX:\+UseParallelGC\)/);
  const g1 = { NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS: '-XX:+UseG1GC', NIGHTJAR_SPARK_SHORT_JOB_JAVA_OPTIONS: '-XX:TieredStopAtLevel=1', NIGHTJAR_SPARK_LONG_JOB_JAVA_OPTIONS: 'none' };
  expect(loadConfig(g1, root).spark.driverJavaOptions).toEqual(['-XX:+UseG1GC']);
  expect(() => loadConfig({ NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS: '-Xss4m; rm' }, root)).toThrow(/NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS="-Xss4m; rm": expected JVM options/);
  // The heap belongs to the resources and the out-of-memory policy, on every platform.
  for (const [variable, value] of [
    ['NIGHTJAR_SPARK_DRIVER_JAVA_OPTIONS', '-Xss4m -Xmx4g'],
    ['NIGHTJAR_SPARK_SHORT_JOB_JAVA_OPTIONS', '-XX:TieredStopAtLevel=1 -Xms512m'],
    ['NIGHTJAR_SPARK_LONG_JOB_JAVA_OPTIONS', '-XX:MaxHeapSize=8g'],
  ] as const) {
    expect(() => loadConfig({ [variable]: value }, root)).toThrow(`${variable}=${JSON.stringify(value)}: sets the heap size, which belongs to the job resources`);
  }
  expect(loadConfig({ NIGHTJAR_SPARK_LONG_JOB_JAVA_OPTIONS: '-XX:+UseParallelGC -XX:MaxGCPauseMillis=500 -Xss4m' }, root).spark.longJob.javaOptions).toHaveLength(3);
});

test('class-data sharing: a cache outside the checkout by default, a chosen directory, or off', () => {
  expect(loadConfig({}, root).spark.classDataDir).toMatch(/\.cache\/nightjar\/spark-cds$/);
  expect(loadConfig({}, root).spark.classDataDir?.startsWith(root)).toBe(false);
  expect(loadConfig({ NIGHTJAR_SPARK_CDS_DIR: '/var/cache/nightjar-cds' }, root).spark.classDataDir).toBe('/var/cache/nightjar-cds');
  expect(loadConfig({ NIGHTJAR_SPARK_CDS_DIR: 'off' }, root).spark.classDataDir).toBeUndefined();
});

test('the worker keeps a bounded workflow cache and never runs more workflow tasks than it caches', () => {
  expect(loadConfig({}, root).worker).toMatchObject({
    maxCachedWorkflows: 250,
    maxConcurrentWorkflowTasks: 20,
    maxWorkflowTaskPolls: 10,
    maxConcurrentActivities: 200,
    maxActivityTaskPolls: 10,
    workflowThreads: 1,
    workflowHeapMb: 256,
  });
  const small = loadConfig({ NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS: '8', NIGHTJAR_WORKER_MAX_WORKFLOW_TASKS: '40' }, root).worker;
  expect(small).toMatchObject({ maxCachedWorkflows: 8, maxConcurrentWorkflowTasks: 8, maxWorkflowTaskPolls: 8 });
  expect(() => loadConfig({ NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS: '0' }, root)).toThrow(/NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS/);
});

test('poll counts stay within what the SDK accepts: workflow polls 2 to the workflow tasks, activity polls up to the activities', () => {
  const one = loadConfig({ NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS: '1', NIGHTJAR_WORKER_WORKFLOW_TASK_POLLS: '1' }, root).worker;
  expect(one).toMatchObject({ maxConcurrentWorkflowTasks: 2, maxWorkflowTaskPolls: 2 });
  expect(loadConfig({ NIGHTJAR_WORKER_MAX_WORKFLOW_TASKS: '6', NIGHTJAR_WORKER_WORKFLOW_TASK_POLLS: '30' }, root).worker.maxWorkflowTaskPolls).toBe(6);
  expect(loadConfig({ NIGHTJAR_WORKER_MAX_ACTIVITIES: '4', NIGHTJAR_WORKER_ACTIVITY_TASK_POLLS: '10' }, root).worker.maxActivityTaskPolls).toBe(4);
  expect(() => loadConfig({ NIGHTJAR_WORKER_WORKFLOW_THREADS: '0' }, root)).toThrow(/NIGHTJAR_WORKER_WORKFLOW_THREADS/);
});

test('the workflow heap limit must hold a full cache (32 MiB + 0.7 MiB per cached workflow)', () => {
  expect(() => loadConfig({ NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS: '500' }, root)).toThrow(/NIGHTJAR_WORKER_WORKFLOW_HEAP_MB=.*a cache of 500 workflows needs about 382 MiB/);
  expect(loadConfig({ NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS: '500', NIGHTJAR_WORKER_WORKFLOW_HEAP_MB: '400' }, root).worker).toMatchObject({ maxCachedWorkflows: 500, workflowHeapMb: 400 });
});

test('the workflow heap limit is a number of MiB, at least 64', () => {
  expect(loadConfig({ NIGHTJAR_WORKER_WORKFLOW_HEAP_MB: '512' }, root).worker.workflowHeapMb).toBe(512);
  expect(() => loadConfig({ NIGHTJAR_WORKER_WORKFLOW_HEAP_MB: '32' }, root)).toThrow(/NIGHTJAR_WORKER_WORKFLOW_HEAP_MB=.*at least 64 MiB/);
  expect(() => loadConfig({ NIGHTJAR_WORKER_WORKFLOW_HEAP_MB: 'lots' }, root)).toThrow(/NIGHTJAR_WORKER_WORKFLOW_HEAP_MB=.*expected a number of MiB/);
});

test('the warm driver: off unless slots are configured; a slot count that is not a small whole number is refused by name', () => {
  expect(loadConfig({}, root).spark.warmSlots).toBe(0);
  expect(loadConfig({ NIGHTJAR_SPARK_WARM_SLOTS: '2' }, root).spark.warmSlots).toBe(2);
  expect(() => loadConfig({ NIGHTJAR_SPARK_WARM_SLOTS: '-1' }, root)).toThrow(/NIGHTJAR_SPARK_WARM_SLOTS/);
  expect(() => loadConfig({ NIGHTJAR_SPARK_WARM_SLOTS: '1.5' }, root)).toThrow(/NIGHTJAR_SPARK_WARM_SLOTS/);
  expect(() => loadConfig({ NIGHTJAR_SPARK_WARM_SLOTS: '64' }, root)).toThrow(/NIGHTJAR_SPARK_WARM_SLOTS/);
});

test('a job\'s independent steps: two at once unless configured; 0, a fraction or more than 8 is refused by name', () => {
  expect(loadConfig({}, root).spark.stepsAtOnce).toBe(2);
  expect(loadConfig({ NIGHTJAR_SPARK_STEPS_AT_ONCE: '1' }, root).spark.stepsAtOnce).toBe(1);
  for (const bad of ['0', '1.5', '9', 'two']) {
    expect(() => loadConfig({ NIGHTJAR_SPARK_STEPS_AT_ONCE: bad }, root)).toThrow(/NIGHTJAR_SPARK_STEPS_AT_ONCE/);
  }
});
