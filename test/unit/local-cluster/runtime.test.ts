import { quantityToBytes } from '../../../local-cluster/runtime/memory-cgroup';
import { PathMap } from '../../../local-cluster/runtime/path-map';
import { containerCommand, ContainerStartError, sparkJavaOpts } from '../../../local-cluster/runtime/spark-entrypoint';

const install = { sparkHome: '/venv/pyspark', java: '/usr/lib/jvm/17/bin/java' };

test('container paths are mapped where they stand as paths, longest mount first, and nowhere else', () => {
  const map = new PathMap([
    { containerPath: '/opt/nightjar/spark', hostPath: '/repo/spark' },
    { containerPath: '/opt/spark/conf', hostPath: '/state/pod/conf' },
    { containerPath: '/opt/spark/conf/extra', hostPath: '/state/pod/extra' },
  ]);
  expect(map.map('local:///opt/nightjar/spark/jobs/normalize.py')).toBe('local:///repo/spark/jobs/normalize.py');
  expect(map.map('--properties-file /opt/spark/conf/spark.properties')).toBe('--properties-file /state/pod/conf/spark.properties');
  expect(map.map('x=/opt/spark/conf/extra/a:/opt/spark/confx')).toBe('x=/state/pod/extra/a:/opt/spark/confx');
  expect(map.map('/opt/nightjar/sparkling')).toBe('/opt/nightjar/sparkling');
});

test("the image's driver entrypoint: spark-submit in client mode bound to the pod's address", () => {
  const command = containerCommand(undefined, ['driver', '--properties-file', '/c/spark.properties', 'local:///j.py'], { SPARK_DRIVER_BIND_ADDRESS: '127.77.0.2' }, install, {
    'spark.kubernetes.driver.master': 'https://127.0.0.1:6443',
  });
  expect(command).toEqual({
    file: '/venv/pyspark/bin/spark-submit',
    args: ['--conf', 'spark.kubernetes.driver.master=https://127.0.0.1:6443', '--conf', 'spark.driver.bindAddress=127.77.0.2', '--deploy-mode', 'client', '--properties-file', '/c/spark.properties', 'local:///j.py'],
  });
  expect(() => containerCommand(undefined, ['driver'], {}, install)).toThrow(ContainerStartError);
});

test("the image's executor entrypoint: the executor backend with the pod's env, SPARK_JAVA_OPT_n in order", () => {
  const env = {
    SPARK_EXECUTOR_MEMORY: '512m',
    SPARK_DRIVER_URL: 'spark://CoarseGrainedScheduler@d:7078',
    SPARK_EXECUTOR_ID: '3',
    SPARK_EXECUTOR_CORES: '1',
    SPARK_APPLICATION_ID: 'spark-1',
    SPARK_EXECUTOR_POD_IP: '127.77.0.4',
    SPARK_RESOURCE_PROFILE_ID: '0',
    SPARK_EXECUTOR_POD_NAME: 'a-exec-3',
    SPARK_JAVA_OPT_10: '-Dten',
    SPARK_JAVA_OPT_2: '-Dtwo',
    SPARK_CONF_DIR: '/state/conf',
  };
  expect(sparkJavaOpts(env)).toEqual(['-Dtwo', '-Dten']);
  const command = containerCommand(undefined, ['executor'], env, install);
  expect(command.file).toBe(install.java);
  expect(command.args).toEqual([
    '-Dtwo', '-Dten', '-Xms512m', '-Xmx512m', '-cp', '/state/conf:/venv/pyspark/jars/*',
    'org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend',
    '--driver-url', 'spark://CoarseGrainedScheduler@d:7078', '--executor-id', '3', '--cores', '1', '--app-id', 'spark-1',
    '--hostname', '127.77.0.4', '--resourceProfileId', '0', '--podName', 'a-exec-3',
  ]);
});

test('a container with a command runs it as given', () => {
  expect(containerCommand(['sh', '-c'], ['echo hi'], {}, install)).toEqual({ file: 'sh', args: ['-c', 'echo hi'] });
});

test('memory quantities in bytes', () => {
  expect(quantityToBytes('544Mi')).toBe(544 * 2 ** 20);
  expect(quantityToBytes('1G')).toBe(1e9);
  expect(quantityToBytes('lots')).toBeUndefined();
});
