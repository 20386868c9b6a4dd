import { classifyLocalExit, parseProgressLine, redact, tailLines, type LocalExit } from '../../src/spark/outcome';

const base: LocalExit = { exitCode: 1, signal: null, logTail: [], resultPresent: false, cancelled: false };
const classify = (exit: Partial<LocalExit>) => classifyLocalExit({ ...base, ...exit });

const sparkInfo = (msg: string) => `26/11/20 02:10:00 INFO ${msg}`;

/** What Spark 4 local mode printed when a collect() outgrew a 512 MiB driver (trimmed). */
const LOCAL_MODE_OOM_LOG = [
  sparkInfo('Executor: Finished task 1.0 in stage 0.0 (TID 1). 52154060 bytes result sent via BlockManager)'),
  '26/11/20 02:10:02 WARN BlockManager: Failed to fetch remote block taskresult_0 after 1 fetch failures. Most recent failure cause:',
  'org.apache.spark.SparkException: Exception thrown in awaitResult: ',
  '\tat org.apache.spark.util.SparkThreadUtils$.awaitResult(SparkThreadUtils.scala:70)',
  'Caused by: java.util.concurrent.ExecutionException: Boxed Exception',
  'Caused by: java.lang.OutOfMemoryError: Java heap space',
  '\tat java.base/java.nio.HeapByteBuffer.<init>(HeapByteBuffer.java:64)',
  'Traceback (most recent call last):',
  '  File "/jobs/normalize.py", line 4, in <module>',
  '    rows = df.collect()',
  'py4j.protocol.Py4JJavaError: An error occurred while calling o33.collectToPython.',
  ': org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 0.0 failed 1 times: TaskResultLost (result lost from block manager)',
  '\tat org.apache.spark.scheduler.DAGScheduler.$anonfun$abortStage$3(DAGScheduler.scala:4568)',
  sparkInfo('SparkContext: Invoking stop() from shutdown hook'),
  sparkInfo('SparkContext: Successfully stopped SparkContext'),
];

const ANALYSIS_EXCEPTION = [
  sparkInfo('SparkContext: Running Spark version 4.3.0'),
  'Traceback (most recent call last):',
  '  File "/spark/jobs/transform.py", line 88, in <module>',
  '    main()',
  'pyspark.errors.exceptions.captured.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column with name `amount_rptx` cannot be resolved. SQLSTATE: 42703',
  sparkInfo('SparkContext: Successfully stopped SparkContext'),
];

describe('classifyLocalExit', () => {
  test.each([
    ['exit 0', { exitCode: 0 }],
    ['a SIGTERM exit (143) after the result was written', { exitCode: 143 }],
    ['an OutOfMemoryError in the log', { exitCode: 1, logTail: ['java.lang.OutOfMemoryError: Java heap space'] }],
    ['an unknown exit (lost process)', { exitCode: null }],
  ])('a present result file means SUCCEEDED, even with %s', (_, exit) => {
    expect(classify({ ...exit, resultPresent: true }).kind).toBe('SUCCEEDED');
  });

  test.each([
    ['java.lang.OutOfMemoryError: Java heap space', 1],
    ['Exception in thread "main" java.lang.OutOfMemoryError: GC overhead limit exceeded', 1],
    ['org.apache.spark.memory.SparkOutOfMemoryError: [UNABLE_TO_ACQUIRE_MEMORY] Unable to acquire 65536 bytes of memory', 1],
    ['MemoryError', 1],
    ['java.lang.OutOfMemoryError: Java heap space', 52],
  ])('"%s" with exit %d is OUT_OF_MEMORY on the driver', (line, exitCode) => {
    const outcome = classify({ exitCode, logTail: [sparkInfo('Executor: Running task 0.0'), line, sparkInfo('SparkContext: stopped')] });
    expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver', exitCode });
    expect(outcome.diagnostics).toContain(line);
  });

  test('exit 52 alone (the JVM OutOfMemoryError exit code) is OUT_OF_MEMORY', () => {
    expect(classify({ exitCode: 52, logTail: [] })).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver' });
  });

  test("Spark local mode's collect OOM wins over the lost-task error Python died of", () => {
    const outcome = classify({ exitCode: 1, logTail: LOCAL_MODE_OOM_LOG });
    expect(outcome.kind).toBe('OUT_OF_MEMORY');
    expect(outcome.reason).toContain('java.lang.OutOfMemoryError: Java heap space');
    expect(outcome.diagnostics).toContain('Caused by: java.lang.OutOfMemoryError: Java heap space');
  });

  test('a JVM option naming OutOfMemoryError is not an OOM', () => {
    const outcome = classify({ exitCode: 1, logTail: ['Spark Command: java -XX:OnOutOfMemoryError="kill -9 %p" -cp …', 'ValueError: bad spec'] });
    expect(outcome.kind).toBe('PERMANENT');
  });

  test('SIGKILL without an OOM in the log is TRANSIENT (killed by the OS)', () => {
    expect(classify({ exitCode: null, signal: 'SIGKILL', logTail: [sparkInfo('Executor: Running task 3.0')] })).toMatchObject({
      kind: 'TRANSIENT',
      reason: expect.stringContaining('killed by the OS'),
    });
    expect(classify({ exitCode: 137, logTail: [] }).kind).toBe('TRANSIENT');
  });

  test('SIGKILL with an OOM in the log is OUT_OF_MEMORY', () => {
    expect(classify({ exitCode: null, signal: 'SIGKILL', logTail: ['java.lang.OutOfMemoryError: Java heap space'] }).kind).toBe(
      'OUT_OF_MEMORY',
    );
  });

  test('a cancelled attempt is TRANSIENT "cancelled", whatever its exit', () => {
    expect(classify({ exitCode: 143, cancelled: true, logTail: ['java.lang.OutOfMemoryError: Java heap space'] })).toMatchObject({
      kind: 'TRANSIENT',
      reason: 'cancelled',
    });
  });

  test('a lost process (exit not observed) is TRANSIENT unless the log says OOM or the job gave up', () => {
    const lost = { exitCode: null, signal: null };
    expect(classify({ ...lost, logTail: [sparkInfo('Executor: Running task 3.0')] })).toMatchObject({
      kind: 'TRANSIENT',
      reason: expect.stringContaining('driver process lost'),
    });
    expect(classify({ ...lost, logTail: LOCAL_MODE_OOM_LOG }).kind).toBe('OUT_OF_MEMORY');
    expect(classify({ ...lost, logTail: ['NIGHTJAR_ERROR {"type": "InputMissing", "message": "no input for feed accounts"}'] })).toMatchObject({
      kind: 'PERMANENT',
      reason: 'job error: InputMissing: no input for feed accounts',
    });
  });

  test('the NIGHTJAR_ERROR line gives the reason of a permanent failure', () => {
    const outcome = classify({
      exitCode: 1,
      logTail: [...ANALYSIS_EXCEPTION, 'NIGHTJAR_ERROR {"message": "spec.inputs.accounts is not a file URI"}'],
    });
    expect(outcome).toMatchObject({ kind: 'PERMANENT', reason: 'job error: spec.inputs.accounts is not a file URI' });
  });

  describe('with the NIGHTJAR_ERROR line the jobs print for any exception', () => {
    const jobError = (fields: Record<string, unknown>) => `NIGHTJAR_ERROR ${JSON.stringify(fields)}`;

    test('an analysis error is PERMANENT, reason "<class>: <message>"', () => {
      const line = jobError({
        error: 'AnalysisException',
        message: '[PATH_NOT_FOUND] Path does not exist: file:/data/raw/2026-11-20/accounts.csv. SQLSTATE: 42K03',
        javaClass: 'org.apache.spark.sql.AnalysisException',
        javaCauses: ['org.apache.spark.sql.AnalysisException: [PATH_NOT_FOUND] Path does not exist'],
        outOfMemory: false,
      });
      expect(classify({ exitCode: 1, logTail: [...ANALYSIS_EXCEPTION, line] })).toMatchObject({
        kind: 'PERMANENT',
        reason: 'job error: AnalysisException: [PATH_NOT_FOUND] Path does not exist: file:/data/raw/2026-11-20/accounts.csv. SQLSTATE: 42K03',
      });
    });

    test("the job's outOfMemory verdict makes it OUT_OF_MEMORY", () => {
      const line = jobError({ error: 'Py4JJavaError', message: 'An error occurred while calling o33.collectToPython.', outOfMemory: true });
      expect(classify({ exitCode: 1, logTail: [line] })).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'driver' });
    });

    test('a dead gateway or a refused connection among the Java causes is TRANSIENT, also when the exit was not seen', () => {
      const gateway = jobError({ error: 'Py4JNetworkError', message: 'Answer from Java side is empty', outOfMemory: false });
      const refused = jobError({
        error: 'Py4JJavaError',
        message: 'An error occurred while calling o52.text.',
        javaCauses: ['java.net.ConnectException: Connection refused'],
      });
      for (const line of [gateway, refused]) {
        expect(classify({ exitCode: 1, logTail: [line] }).kind).toBe('TRANSIENT');
        expect(classify({ exitCode: null, logTail: [line] })).toMatchObject({
          kind: 'TRANSIENT',
          reason: expect.stringContaining('driver process lost'),
        });
      }
    });

    test('quoted values in the message are masked (they may be row data)', () => {
      const line = jobError({ error: 'ValueError', message: "could not convert string to float: 'Jane Doe'" });
      expect(classify({ exitCode: 1, logTail: [line] }).reason).toBe("job error: ValueError: could not convert string to float: '…'");
    });
  });

  test('an AnalysisException is PERMANENT with its one-line message', () => {
    const outcome = classify({ exitCode: 1, logTail: ANALYSIS_EXCEPTION });
    expect(outcome.kind).toBe('PERMANENT');
    expect(outcome.reason).toMatch(/^pyspark\.errors\.exceptions\.captured\.AnalysisException: \[UNRESOLVED_COLUMN/);
  });

  test('a missing input is PERMANENT, naming the path', () => {
    const outcome = classify({
      exitCode: 1,
      logTail: [
        'Traceback (most recent call last):',
        '  File "/spark/jobs/normalize.py", line 12, in <module>',
        'py4j.protocol.Py4JJavaError: An error occurred while calling o52.text.',
        ': java.io.FileNotFoundException: File file:/data/raw/2026-11-20/accounts.csv does not exist',
        '\tat org.apache.hadoop.fs.RawLocalFileSystem.deprecatedGetFileStatus(RawLocalFileSystem.java:917)',
      ],
    });
    expect(outcome).toMatchObject({
      kind: 'PERMANENT',
      reason: 'java.io.FileNotFoundException: File file:/data/raw/2026-11-20/accounts.csv does not exist',
    });
  });

  test('a ValueError is PERMANENT; quoted values (row data) are masked in the reason', () => {
    const outcome = classify({
      exitCode: 1,
      logTail: ['Traceback (most recent call last):', '  File "x.py", line 1', "ValueError: invalid literal for int() with base 10: 'Jane Doe'"],
    });
    expect(outcome.kind).toBe('PERMANENT');
    expect(outcome.reason).toBe("ValueError: invalid literal for int() with base 10: '…'");
  });

  test('exit 1 with nothing recognisable is PERMANENT, and exit 0 without a result too', () => {
    expect(classify({ exitCode: 1, logTail: [sparkInfo('bye')] })).toMatchObject({ kind: 'PERMANENT', reason: 'spark-submit exit code 1' });
    expect(classify({ exitCode: 0, logTail: [] })).toMatchObject({ kind: 'PERMANENT', reason: expect.stringContaining('no result file') });
  });

  test.each([
    ['java.net.ConnectException: Connection refused'],
    ['py4j.protocol.Py4JNetworkError: Answer from Java side is empty'],
    ['pyspark.errors.exceptions.base.PySparkRuntimeError: [JAVA_GATEWAY_EXITED] Java gateway process exited before sending its port number.'],
    ["java.net.BindException: Address already in use: Service 'sparkDriver' failed after 16 retries"],
  ])('"%s" is TRANSIENT', (line) => {
    const outcome = classify({ exitCode: 1, logTail: ['Traceback (most recent call last):', '  File "x.py", line 1', line] });
    expect(outcome.kind).toBe('TRANSIENT');
  });

  test('a recovered connection warning earlier in the log does not make a later AnalysisException transient', () => {
    const outcome = classify({
      exitCode: 1,
      logTail: ['26/11/20 02:09:00 WARN TransportClientFactory: Connection refused, retrying', ...ANALYSIS_EXCEPTION],
    });
    expect(outcome.kind).toBe('PERMANENT');
  });

  test('reasons are one short line and diagnostics are redacted', () => {
    const long = `ValueError: ${'x'.repeat(500)}`;
    const outcome = classify({
      exitCode: 1,
      logTail: ['creditor DE89370400440532013000 jane.doe@example.com', 'Traceback (most recent call last):', long],
    });
    expect(outcome.reason.length).toBeLessThanOrEqual(200);
    expect(outcome.reason).not.toContain('\n');
    expect(outcome.diagnostics.join('\n')).not.toMatch(/DE89370400440532013000|jane\.doe@example\.com/);
    expect(outcome.diagnostics).toContain('creditor <iban> <email>');
  });

  test('diagnostics leave out INFO noise and keep the deciding line', () => {
    const noise = Array.from({ length: 100 }, (_, i) => sparkInfo(`BlockManager: noise ${i}`));
    const outcome = classify({ exitCode: 1, logTail: ['java.lang.OutOfMemoryError: Java heap space', ...noise] });
    expect(outcome.diagnostics).toEqual(['java.lang.OutOfMemoryError: Java heap space']);
  });
});

describe('tailLines', () => {
  test('returns the last n lines without the empty line after a trailing newline', () => {
    expect(tailLines('a\nb\r\nc\n', 2)).toEqual(['b', 'c']);
    expect(tailLines('a\nb', 5)).toEqual(['a', 'b']);
    expect(tailLines('', 3)).toEqual([]);
    expect(tailLines('a\nb', 0)).toEqual([]);
  });
});

describe('redact', () => {
  test('masks IBAN-like tokens (compact and grouped) and e-mail addresses', () => {
    expect(redact('to GB82WEST12345698765432 ok')).toBe('to <iban> ok');
    expect(redact('iban DE89 3704 0044 0532 0130 00.')).toBe('iban <iban>.');
    expect(redact('mail ops+night@bank.example.co.uk now')).toBe('mail <email> now');
  });

  test('leaves ids, class names and paths alone', () => {
    const line = 'A000012345 C0001234 T000000001 org.apache.spark.SparkException file:/data/raw/2026-11-20/accounts.csv UTF8';
    expect(redact(line)).toBe(line);
  });
});

describe('parseProgressLine', () => {
  test('reads the JSON object after NIGHTJAR_PROGRESS and ignores anything else', () => {
    expect(parseProgressLine('NIGHTJAR_PROGRESS {"phase": "read", "feed": "accounts"}')).toEqual({ phase: 'read', feed: 'accounts' });
    expect(parseProgressLine('NIGHTJAR_PROGRESS not json')).toBeUndefined();
    expect(parseProgressLine('NIGHTJAR_PROGRESS [1]')).toBeUndefined();
    expect(parseProgressLine(sparkInfo('x'))).toBeUndefined();
  });
});
