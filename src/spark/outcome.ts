/**
 * How a local Spark attempt ended, decided from what it left behind: its exit, the result
 * file and the tail of its driver log. Pure: the platform gathers the facts, this decides.
 *
 * The order of the checks is the contract: a result file beats everything (the job writes it
 * last), an OutOfMemoryError anywhere in the tail beats the error the job finally died of
 * (in local mode the OOM usually surfaces in Python as a lost task or a dead gateway), and
 * only then do transient and permanent errors compete.
 */
import type { SparkAttemptOutcome } from '../domain/spark/resources';

/** Written by a job last, atomically, only on success (docs/spark-jobs.md). */
export const JOB_RESULT_FILE = '_result.json';
/** Stdout prefix of a job's progress lines: `NIGHTJAR_PROGRESS {"phase": ...}`. */
export const PROGRESS_PREFIX = 'NIGHTJAR_PROGRESS';
/** Stdout prefix of the line a job prints when it gives up: `NIGHTJAR_ERROR {"message": ...}`. */
export const ERROR_PREFIX = 'NIGHTJAR_ERROR';

/** The JVM's exit code for an uncaught OutOfMemoryError (Spark's SparkExitCode.OOM). */
const EXIT_OOM = 52;
/** 128 + SIGKILL: what a shell or the JVM reports for a child killed by SIGKILL. */
const EXIT_SIGKILL = 137;
const MAX_REASON = 200;
const MAX_DIAGNOSTIC_LINE = 300;
const DIAGNOSTIC_LINES = 30;

export interface LocalExit {
  /** Null when the process was killed by a signal or when its exit is unknown (lost). */
  readonly exitCode: number | null;
  /** e.g. 'SIGKILL'; null when it exited normally or its exit is unknown. */
  readonly signal: string | null;
  /** The last lines of the driver log (stdout and stderr interleaved). */
  readonly logTail: readonly string[];
  readonly resultPresent: boolean;
  /** Nightjar itself stopped the attempt (activity cancellation). */
  readonly cancelled: boolean;
}

const OOM = [
  /java\.lang\.OutOfMemoryError/,
  /\bOutOfMemoryError:/,
  /Java heap space/,
  /GC overhead limit exceeded/,
  /SparkOutOfMemoryError/,
  // Python's own: the driver process ran out of memory building a collected list.
  /^\s*MemoryError\b/,
];

const TRANSIENT = [
  /Connection refused/i,
  /ConnectionRefusedError/,
  /Connection reset by peer/i,
  /Py4JNetworkError/,
  /Answer from Java side is empty/,
  /Error while (?:sending|receiving)/,
  /Java gateway process exited/,
  /JAVA_GATEWAY_EXITED/,
  /Address already in use/,
  /BindException/,
];

const LOG4J_LINE = /^\d{2,4}[/-]\d{2}[/-]\d{2}[ T]\d{2}:\d{2}:\d{2}\S*\s+(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\b/;
const EXCEPTION_LINE = /^(?:Caused by: |: )?(?:[A-Za-z_][\w$]*\.)*[A-Za-z_][\w$]*(?:Exception|Error|Failure)\b(?::.*)?$/;

export function classifyLocalExit(exit: LocalExit): SparkAttemptOutcome {
  const lines = exit.logTail;
  const { exitCode, signal } = exit;
  const diagnostics = (keyLines: readonly (string | undefined)[] = []) => buildDiagnostics(lines, keyLines);
  const outcome = (kind: SparkAttemptOutcome['kind'], reason: string, keys: (string | undefined)[] = []) => ({
    kind,
    reason: shortReason(reason),
    exitCode,
    diagnostics: diagnostics(keys),
    ...(kind === 'OUT_OF_MEMORY' ? { oomSide: 'driver' as const } : {}),
  });
  const how = describeExit(exitCode, signal);

  if (exit.resultPresent) {
    const odd = exitCode === 0 ? '' : ` (then ${how})`;
    return outcome('SUCCEEDED', `result file written${odd}`);
  }
  if (exit.cancelled) return outcome('TRANSIENT', 'cancelled');

  const jobError = findJobError(lines);
  const oomLine = findLast(lines, (l) => !l.includes('-XX:') && !l.includes(ERROR_PREFIX) && OOM.some((re) => re.test(l)));
  if (oomLine !== undefined) {
    return outcome('OUT_OF_MEMORY', `driver out of memory (${how}): ${cleanErrorLine(oomLine)}`, [oomLine]);
  }
  if (jobError && (jobError.outOfMemory || jobError.texts.some((t) => OOM.some((re) => re.test(t))))) return outcome('OUT_OF_MEMORY', `driver out of memory (${how}): ${jobError.message}`, [jobError.line]);
  if (exitCode === EXIT_OOM) return outcome('OUT_OF_MEMORY', `driver out of memory: JVM ${how} (OutOfMemoryError)`);

  const finalError = findFinalError(lines);
  const transient = [...(jobError?.texts ?? []), ...(finalError?.block ?? [])].find((l) => TRANSIENT.some((re) => re.test(l)));

  if (exitCode === null && signal === null) {
    // Nobody saw it exit (the worker that started it is gone). The job's own account of a
    // non-transient error still counts; otherwise we cannot tell and a retry is the safe answer.
    if (jobError && transient === undefined) return outcome('PERMANENT', jobError.message, [jobError.line]);
    return outcome('TRANSIENT', 'driver process lost (exit not observed)', [jobError?.line ?? finalError?.line]);
  }
  if (signal === 'SIGKILL' || exitCode === EXIT_SIGKILL) {
    return outcome('TRANSIENT', `killed by the OS (${how}), no OutOfMemoryError in the log`);
  }
  if (transient !== undefined) return outcome('TRANSIENT', `transient: ${cleanErrorLine(transient)}`, [jobError?.line ?? transient]);

  if (signal !== null) return outcome('TRANSIENT', `terminated by ${signal}`);
  if (exitCode !== null && exitCode > 128 && exitCode < 160) return outcome('TRANSIENT', `terminated (${how})`);

  if (jobError) return outcome('PERMANENT', jobError.message, [jobError.line]);
  if (finalError) return outcome('PERMANENT', finalError.summary, [finalError.line]);
  if (exitCode === 0) return outcome('PERMANENT', 'exited with code 0 but wrote no result file');
  return outcome('PERMANENT', `spark-submit ${how}`);
}

/** The last `n` lines of `text` (a trailing newline does not count as an empty line). */
export function tailLines(text: string, n: number): string[] {
  if (n <= 0 || text.length === 0) return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n);
}

const IBAN = /\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

/** Masks IBAN-like and e-mail-like tokens, so diagnostics can travel in failures and logs. */
export function redact(text: string): string {
  return text.replace(EMAIL, '<email>').replace(IBAN, '<iban>');
}

/** The JSON object of a `NIGHTJAR_PROGRESS {...}` line, or undefined for any other line. */
export function parseProgressLine(line: string): Record<string, unknown> | undefined {
  const at = line.indexOf(`${PROGRESS_PREFIX} `);
  if (at < 0) return undefined;
  try {
    const value: unknown = JSON.parse(line.slice(at + PROGRESS_PREFIX.length + 1));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------

function describeExit(exitCode: number | null, signal: string | null): string {
  if (signal !== null) return `killed by ${signal}`;
  if (exitCode !== null) return `exit code ${exitCode}`;
  return 'exit unknown';
}

function findLast(lines: readonly string[], test: (line: string) => boolean): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string;
    if (test(line)) return line;
  }
  return undefined;
}

interface JobError {
  readonly line: string;
  /** `<error class>: <message>`, quoted values masked. */
  readonly message: string;
  /** The job's own OOM verdict (it inspects the JVM exception chain). */
  readonly outOfMemory: boolean;
  /** Message and Java causes, searched for transient causes. */
  readonly texts: readonly string[];
}

/**
 * The job's `NIGHTJAR_ERROR` line, printed for any exception it dies of:
 * `{"error": <class>, "message", "javaClass"?, "javaCauses"?: [], "outOfMemory"?: bool}`.
 */
function findJobError(lines: readonly string[]): JobError | undefined {
  const line = findLast(lines, (l) => l.includes(`${ERROR_PREFIX} `) || l.trimEnd().endsWith(ERROR_PREFIX));
  if (line === undefined) return undefined;
  const raw = line.slice(line.indexOf(ERROR_PREFIX) + ERROR_PREFIX.length).trim();
  const str = (x: unknown): string | undefined => (typeof x === 'string' && x.length > 0 ? x : undefined);
  let message = raw;
  let outOfMemory = false;
  let causes: string[] = [];
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const text = str(o.message) ?? str(o.reason);
      const type = str(o.type) ?? str(o.code) ?? str(o.error);
      message = text === undefined ? (type ?? raw) : type === undefined || text.startsWith(type) ? text : `${type}: ${text}`;
      outOfMemory = o.outOfMemory === true;
      causes = Array.isArray(o.javaCauses) ? o.javaCauses.filter((c): c is string => typeof c === 'string') : [];
    } else if (typeof v === 'string') {
      message = v;
    }
  } catch {
    // not JSON: keep the text as printed
  }
  return {
    line,
    message: `job error: ${cleanErrorLine(message) || 'no message'}`,
    outOfMemory,
    texts: [message, ...causes],
  };
}

interface FinalError {
  /** The line an operator reads first. */
  readonly line: string;
  readonly summary: string;
  /** The exception lines of the last failure, searched for transient causes. */
  readonly block: readonly string[];
}

/**
 * The error the process finally died of: the last Python traceback's exception (with the Java
 * exception behind a Py4JJavaError and its root cause), else the last exception-looking line.
 */
function findFinalError(lines: readonly string[]): FinalError | undefined {
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if ((lines[i] as string).startsWith('Traceback (most recent call last):')) {
      start = i;
      break;
    }
  }
  const from = start >= 0 ? start : Math.max(0, lines.length - 200);
  const region = lines.slice(from);
  const block = region.filter((l) => !/^\s/.test(l) && (EXCEPTION_LINE.test(l) || TRANSIENT.some((re) => re.test(l))));

  let line: string | undefined;
  if (start >= 0) {
    const idx = region.findIndex((l, i) => i > 0 && l.length > 0 && !/^\s/.test(l));
    line = idx >= 0 ? region[idx] : undefined;
    const next = idx >= 0 ? region[idx + 1] : undefined;
    if (line?.includes('Py4JJavaError') && next?.startsWith(': ')) line = next;
  }
  line ??= findLast(region, (l) => EXCEPTION_LINE.test(l) && !LOG4J_LINE.test(l));
  if (line === undefined) return undefined;

  const rootCause = findLast(region, (l) => l.startsWith('Caused by: '));
  let summary = cleanErrorLine(line);
  if (rootCause !== undefined && rootCause !== line) summary += ` (root cause: ${cleanErrorLine(rootCause)})`;
  return { line, summary, block };
}

/** One error line made fit for a reason: no log prefix, no quoted values (they may be row data). */
function cleanErrorLine(line: string): string {
  return line
    .replace(LOG4J_LINE, '')
    .replace(/^\s*(?:Caused by: |: )/, '')
    .replace(/'([^']*)'|"([^"]*)"/g, (match, single?: string, double?: string) => {
      const inner = single ?? double ?? '';
      // Paths and URIs say where to look; any other quoted value may be a record's content.
      return /^(?:\/|[a-z]+:\/)/.test(inner) ? match : "'…'";
    })
    .trim();
}

function shortReason(reason: string): string {
  const oneLine = redact(reason.replace(/\s+/g, ' ').trim());
  return oneLine.length <= MAX_REASON ? oneLine : `${oneLine.slice(0, MAX_REASON - 1)}…`;
}

/**
 * The last lines worth reading (log4j INFO/DEBUG noise and blank lines left out), with the
 * lines that decided the outcome kept even when they scrolled further up. Redacted.
 */
function buildDiagnostics(lines: readonly string[], keyLines: readonly (string | undefined)[]): string[] {
  const interesting = lines.filter((l) => l.trim().length > 0 && !/^\S+ \S+ (?:INFO|DEBUG|TRACE) /.test(l));
  const tail = interesting.slice(-DIAGNOSTIC_LINES);
  const keys = keyLines.filter((l): l is string => l !== undefined && !tail.includes(l));
  return [...keys, ...tail].map((l) => {
    const masked = redact(l);
    return masked.length <= MAX_DIAGNOSTIC_LINE ? masked : `${masked.slice(0, MAX_DIAGNOSTIC_LINE - 1)}…`;
  });
}
