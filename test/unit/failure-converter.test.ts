import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { failureConverter, isPlainRefusal, PLAIN_REFUSAL_PREFIX } from '../../src/codec/failure-converter';
import { validateResolveStep } from '../../src/workflows/messages';

test("the resolveStep validator's refusal stays readable in the history (and so in the UI); other failures are encoded", () => {
  let refusal: unknown;
  try {
    validateResolveStep({ step: 'normalize', action: 'retry' }, { step: 'ingest', feed: 'payments', error: { type: 'FeedRejected', message: 'Jane Customer row' }, since: 'x', actions: ['retry', 'abort'] }, false);
  } catch (error) {
    refusal = error;
  }
  expect(isPlainRefusal(refusal)).toBe(true);
  const plain = failureConverter.errorToFailure(refusal, defaultPayloadConverter);
  // The reason, then the bodies that would be accepted (valid JSON, as the UI's update dialog takes them).
  expect(plain.message).toBe(
    `${PLAIN_REFUSAL_PREFIX}the night waits on step 'ingest', not 'normalize'. Allowed: ` +
      '{"step":"ingest","feed":"payments","action":"retry","reason":"why (kept in the manifest)","by":"your name"} or ' +
      '{"step":"ingest","feed":"payments","action":"abort","reason":"why (kept in the manifest)","by":"your name"}',
  );
  // The refusal names no customer data even though the parked error does.
  expect(JSON.stringify(plain)).not.toContain('Jane');
  expect(failureConverter.failureToError(plain, defaultPayloadConverter).message).toBe(plain.message);

  const other = failureConverter.errorToFailure(ApplicationFailure.create({ type: 'FeedRejected', message: 'trailer count off for Jane Customer' }), defaultPayloadConverter);
  expect(other.message).toBe('Encoded failure');
  // An InvalidInput failure that is not a refusal of an operator's message is encoded too.
  expect(failureConverter.errorToFailure(ApplicationFailure.create({ type: 'InvalidInput', message: 'row 7: Jane Customer' }), defaultPayloadConverter).message).toBe('Encoded failure');
});
