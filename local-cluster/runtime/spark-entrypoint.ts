/**
 * What the Spark image's entrypoint does with a container, done with the Spark of this machine
 * (the PyPI `pyspark` install): `driver` runs spark-submit in client mode inside the pod, bound to
 * the pod's address; `executor` runs the Kubernetes executor backend in a JVM sized by
 * SPARK_EXECUTOR_MEMORY, with the SPARK_JAVA_OPT_<n> options in order of n. Anything else runs
 * as given (the image's pass-through). Pure: the caller resolves env and paths first.
 */

export interface SparkInstall {
  /** SPARK_HOME of the pyspark install. */
  readonly sparkHome: string;
  /** The java executable. */
  readonly java: string;
}

export interface ContainerCommand {
  readonly file: string;
  readonly args: readonly string[];
}

export class ContainerStartError extends Error {
  override readonly name = 'ContainerStartError';
}

const EXECUTOR_BACKEND = 'org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend';

/** The SPARK_JAVA_OPT_<n> values, ordered by n as the entrypoint sorts them. */
export function sparkJavaOpts(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env)
    .map(([key, value]) => ({ n: /^SPARK_JAVA_OPT_(\d+)$/.exec(key)?.[1], value }))
    .filter((entry): entry is { n: string; value: string } => entry.n !== undefined)
    .sort((a, b) => Number(a.n) - Number(b.n))
    .map((entry) => entry.value);
}

function required(env: Readonly<Record<string, string>>, name: string, role: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ContainerStartError(`the ${role} container has no ${name} in its environment`);
  return value;
}

/** The classpath the entrypoint builds: the conf directory first, then the jars. */
export function sparkClasspath(env: Readonly<Record<string, string>>, install: SparkInstall): string {
  const parts = [env.SPARK_CONF_DIR ?? `${install.sparkHome}/conf`, env.SPARK_CLASSPATH, `${install.sparkHome}/jars/*`, env.SPARK_EXTRA_CLASSPATH, env.SPARK_DIST_CLASSPATH];
  return parts.filter((part): part is string => part !== undefined && part !== '').join(':');
}

/**
 * The process to start for a container: `command` + `args` as Kubernetes defines them, with the
 * Spark image's entrypoint applied when the container has no command of its own.
 */
export function containerCommand(
  command: readonly string[] | undefined,
  args: readonly string[] | undefined,
  env: Readonly<Record<string, string>>,
  install: SparkInstall,
  /** Configuration the driver gets before its own (what the pod's surroundings provide: the API server's address, the token's path). */
  driverConf: Readonly<Record<string, string>> = {},
): ContainerCommand {
  if (command !== undefined && command.length > 0) {
    const [file, ...rest] = command;
    return { file: file as string, args: [...rest, ...(args ?? [])] };
  }
  const [role, ...rest] = args ?? [];
  if (role === 'driver') {
    const bind = required(env, 'SPARK_DRIVER_BIND_ADDRESS', 'driver');
    const extra = Object.entries(driverConf).flatMap(([key, value]) => ['--conf', `${key}=${value}`]);
    return { file: `${install.sparkHome}/bin/spark-submit`, args: [...extra, '--conf', `spark.driver.bindAddress=${bind}`, '--deploy-mode', 'client', ...rest] };
  }
  if (role === 'executor') {
    const memory = required(env, 'SPARK_EXECUTOR_MEMORY', 'executor');
    const flag = (name: string, variable: string) => [name, required(env, variable, 'executor')];
    return {
      file: install.java,
      args: [
        ...sparkJavaOpts(env),
        `-Xms${memory}`,
        `-Xmx${memory}`,
        '-cp',
        sparkClasspath(env, install),
        EXECUTOR_BACKEND,
        ...flag('--driver-url', 'SPARK_DRIVER_URL'),
        ...flag('--executor-id', 'SPARK_EXECUTOR_ID'),
        ...flag('--cores', 'SPARK_EXECUTOR_CORES'),
        ...flag('--app-id', 'SPARK_APPLICATION_ID'),
        ...flag('--hostname', 'SPARK_EXECUTOR_POD_IP'),
        ...flag('--resourceProfileId', 'SPARK_RESOURCE_PROFILE_ID'),
        ...flag('--podName', 'SPARK_EXECUTOR_POD_NAME'),
      ],
    };
  }
  if (role === undefined) throw new ContainerStartError('the container has neither a command nor arguments (the image has no default command here)');
  return { file: role, args: rest };
}
