/** This machine's Spark (the checkout's pyspark) standing in for the Spark image. */
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { PathMapping } from './path-map';
import type { SparkInstall } from './spark-entrypoint';

/** Where the Nightjar Spark image keeps the jobs (deploy/docker/spark.Dockerfile). */
export const IMAGE_JOBS_DIR = '/opt/nightjar/spark';

/** SPARK_HOME of the checkout's pyspark and the java on PATH. */
export function sparkInstallOf(checkout: string): SparkInstall {
  const python = path.join(checkout, '.venv', 'bin', 'python');
  const sparkHome = execFileSync(python, ['-c', 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'], { encoding: 'utf8' }).trim();
  const java = realpathSync(execFileSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).trim());
  return { sparkHome, java };
}

/** The Spark image of this checkout as the runtime sees it: its install, paths and ENV. */
export function imageDefaults(checkout: string): {
  install: SparkInstall;
  imagePaths: PathMapping[];
  imageEnv: Record<string, string>;
  pathPrefix: string[];
} {
  return {
    install: sparkInstallOf(checkout),
    imagePaths: [{ containerPath: IMAGE_JOBS_DIR, hostPath: path.join(checkout, 'spark') }],
    imageEnv: { PYTHONPATH: IMAGE_JOBS_DIR, PYTHONUNBUFFERED: '1' },
    pathPrefix: [path.join(checkout, '.venv', 'bin')],
  };
}
