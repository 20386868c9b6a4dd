import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import type { FeedName } from '../domain/feeds/catalog';

/**
 * Where every zone of the local data lake lives under one data directory. All paths are
 * derived here so a newcomer finds the lake's shape in one place.
 *
 * <dataDir>/landing/<date>/<feed>.csv         what the source systems delivered (+ .sha256)
 * <dataDir>/raw/<date>/<feed>.csv             immutable, verified copy (read-only)
 * <dataDir>/curated/<date>/<attemptId>/       normalize output (Parquet + rejects + _result.json)
 * <dataDir>/reports/<date>/<attemptId>/       transform output (CSV per report + _result.json)
 * <dataDir>/runs/<date>/manifest.json         the run manifest (audit trail)
 * <dataDir>/runs/<date>/report.html           the night's report page, rendered from the manifests
 * <dataDir>/runs/<date>/logs/<attemptId>.log  Spark driver logs, kept after cleanup
 * <dataDir>/work/spark/<attemptId>/           scratch of a running attempt (removed by cleanup)
 */
export class DataLayout {
  constructor(readonly dataDir: string) {}

  landingDir(date: string): string {
    return path.join(this.dataDir, 'landing', date);
  }
  landingFile(date: string, feed: FeedName): string {
    return path.join(this.landingDir(date), `${feed}.csv`);
  }
  rawFile(date: string, feed: FeedName): string {
    return path.join(this.dataDir, 'raw', date, `${feed}.csv`);
  }
  jobOutputDir(date: string, job: 'normalize' | 'transform', attemptId: string): string {
    const zone = job === 'normalize' ? 'curated' : 'reports';
    return path.join(this.dataDir, zone, date, attemptId);
  }
  runDir(date: string): string {
    return path.join(this.dataDir, 'runs', date);
  }
  manifestFile(date: string): string {
    return path.join(this.runDir(date), 'manifest.json');
  }
  reportFile(date: string): string {
    return path.join(this.runDir(date), 'report.html');
  }
  ingestRecord(date: string, feed: FeedName): string {
    return path.join(this.runDir(date), 'ingest', `${feed}.json`);
  }
  logFile(date: string, attemptId: string): string {
    return path.join(this.runDir(date), 'logs', `${attemptId}.log`);
  }
  /** Where local Spark attempts keep their work dirs, one per attempt. */
  sparkWorkRoot(): string {
    return path.join(this.dataDir, 'work', 'spark');
  }
  sparkWorkDir(attemptId: string): string {
    return path.join(this.sparkWorkRoot(), attemptId);
  }
  /** The warm driver's state (its record, logs, scratch): beside the attempts' dirs, never one of them. */
  sparkWarmDriverDir(): string {
    return path.join(this.dataDir, 'work', 'spark-warm-driver');
  }
  /** What a job learned about its size (learned sizing), one file per job. */
  sizingFile(job: 'normalize' | 'transform'): string {
    return path.join(this.dataDir, 'state', 'spark-sizing', `${job}.json`);
  }
  temporalDbFile(): string {
    return path.join(this.dataDir, 'temporal', 'dev-server.db');
  }
  pgliteDir(): string {
    return path.join(this.dataDir, 'reporting', 'pglite');
  }
}

export function toUri(filePath: string): string {
  return pathToFileURL(filePath).href;
}

/** Local path of a `file://` URI; other schemes are not readable by this process. */
export function uriToPath(uri: string): string {
  if (!uri.startsWith('file:')) throw new Error(`not a local file URI: ${uri}`);
  return fileURLToPath(uri);
}
