import { attemptJavaOptions, isShortAttempt, type SparkJavaOptions } from '../../src/domain/spark/java-options';

const options: SparkJavaOptions = {
  driverJavaOptions: ['-Xss4m'],
  shortJob: { maxInputBytes: { normalize: 1000, transform: 4000 }, javaOptions: ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'] },
  longJob: { javaOptions: ['-XX:+UseParallelGC'] },
};

test("an attempt is short when its input is known and at most its own job's limit", () => {
  expect(isShortAttempt(options, 'normalize', 1000)).toBe(true);
  expect(isShortAttempt(options, 'normalize', 1001)).toBe(false);
  expect(isShortAttempt(options, 'transform', 4000)).toBe(true);
  expect(isShortAttempt(options, 'transform', 4001)).toBe(false);
  expect(isShortAttempt(options, 'normalize', undefined)).toBe(false);
  expect(isShortAttempt({}, 'normalize', 0)).toBe(false);
});

test("the driver gets its own options first, then the size's; the executors the size's alone", () => {
  expect(attemptJavaOptions(options, 'normalize', 10)).toEqual({ driver: ['-Xss4m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'], executor: ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'] });
  expect(attemptJavaOptions(options, 'normalize', undefined)).toEqual({ driver: ['-Xss4m', '-XX:+UseParallelGC'], executor: ['-XX:+UseParallelGC'] });
  expect(attemptJavaOptions({ shortJob: options.shortJob }, 'transform', 5000)).toEqual({ driver: [], executor: [] });
  expect(attemptJavaOptions({}, 'transform', 1)).toEqual({ driver: [], executor: [] });
});
