import * as workflows from '../../src/workflows';
import { DAILY_PIPELINE, type DailyPipeline } from '../../src/workflows/messages';

// Triggers start nights by type name with the contract's types, never importing the workflow:
// the name and the signature must be the registered workflow's.
test("the night's contract names the workflow the worker registers, with its signature", () => {
  const registered: DailyPipeline = workflows.dailyPipeline;
  expect(Object.keys(workflows)).toContain(DAILY_PIPELINE);
  expect(registered.name).toBe(DAILY_PIPELINE);
});
