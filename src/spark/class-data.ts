/**
 * Class-data sharing for the Spark JVMs this worker starts itself (local drivers, spark-submit's
 * launcher for a Kubernetes cluster): a dynamic archive of the classes such a JVM loaded, written
 * by the first one at its clean exit and mapped by the later ones instead of loading and verifying
 * Spark's classes from the jars again. Every archive is named after what it depends on (its role,
 * the spark-submit and the JVM options), so JVMs that load other classes never share one.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { exists } from '../common/files';

/** A claim to write an archive older than this is from a JVM that never finished. */
const CLAIM_MS = 10 * 60_000;

/** What one JVM start adds to its options, and what to do once it exited. */
export interface ClassDataLaunch {
  readonly options: readonly string[];
  /** Keeps the archive this JVM wrote when it exited cleanly; drops it otherwise. */
  exited(ok: boolean): Promise<void>;
}

const NONE: ClassDataLaunch = { options: [], exited: async () => undefined };

export class ClassDataArchives {
  /** `dir`: where the archives live (outside any checkout); absent: no class-data sharing. */
  constructor(
    private readonly dir: string | undefined,
    private readonly logger: Logger,
  ) {}

  /**
   * The class-data options of one JVM start: map the archive when there is one; else, when no
   * other JVM is writing it, write it at exit (to a temporary name, renamed once the JVM exited
   * cleanly, so a half-written archive is never mapped). The JVM checks an archive against its
   * own build and class path and runs without it when they differ. `claimant` names the start
   * (an attempt id) in the claim and the logs.
   */
  async launch(role: string, sparkSubmit: string, javaOptions: readonly string[], claimant: string): Promise<ClassDataLaunch> {
    const dir = this.dir;
    if (dir === undefined) return NONE;
    const archive = path.join(dir, `${role}-${await archiveKey(sparkSubmit, javaOptions)}.jsa`);
    if (await exists(archive)) return { ...NONE, options: [`-XX:SharedArchiveFile=${javaOptionValue(archive)}`] };
    const claim = `${archive}.writing`;
    try {
      await fs.mkdir(dir, { recursive: true });
      const claimed = await fs.stat(claim).then(
        (st) => Date.now() - st.mtimeMs > CLAIM_MS,
        () => true,
      );
      if (!claimed) return NONE;
      await fs.writeFile(claim, `${claimant}\n`);
    } catch (err) {
      // An archive only saves start-up time: a directory it cannot write (a read-only file
      // system, no home) must not stop the JVM from starting without one.
      this.logger.warn({ claimant, dir, err }, 'class-data sharing archive cannot be written here: the JVM starts without one');
      return NONE;
    }
    const tmp = `${archive}.${claimant}.tmp`;
    return {
      options: [`-XX:ArchiveClassesAtExit=${javaOptionValue(tmp)}`],
      exited: async (ok) => {
        try {
          if (ok && (await exists(tmp))) {
            await fs.rename(tmp, archive);
            this.logger.info({ claimant, archive }, 'class-data sharing archive written');
          }
        } finally {
          await fs.rm(tmp, { force: true });
          await fs.rm(claim, { force: true });
        }
      },
    };
  }
}

/**
 * Names the archive after what it depends on: the spark-submit (its path and modification time,
 * which an upgrade of Spark changes) and the JVM's options.
 */
async function archiveKey(sparkSubmit: string, javaOptions: readonly string[]): Promise<string> {
  const real = await fs.realpath(sparkSubmit).catch(() => sparkSubmit);
  const mtime = await fs.stat(real).then(
    (st) => st.mtimeMs,
    () => 0,
  );
  return createHash('sha256').update(JSON.stringify([real, mtime, javaOptions])).digest('hex').slice(0, 16);
}

/** Spark's launcher splits Java options (extraJavaOptions, SPARK_SUBMIT_OPTS) on whitespace and honours backslash escapes. */
export function javaOptionValue(value: string): string {
  return value.replace(/[\s'"\\]/g, '\\$&');
}

