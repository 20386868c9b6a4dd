import { matchesLabels, parseLabelSelector } from '../../../src/spark/kubernetes/fake-api';
import { applyJsonPatch, applyMergePatch, PatchApplyError } from '../../../src/spark/kubernetes/fake-api/patch';

const labels = { app: 'ingest', tier: 'batch', attempt: '3' };
const matches = (selector: string) => matchesLabels(parseLabelSelector(selector), labels);

test('label selector operators match as the API server matches them', () => {
  expect(matches('')).toBe(true);
  expect(matches('app=ingest,tier==batch')).toBe(true);
  expect(matches('app!=ingest')).toBe(false);
  expect(matches('missing!=x')).toBe(true);
  expect(matches('app in (normalize,ingest)')).toBe(true);
  expect(matches('app notin (ingest)')).toBe(false);
  expect(matches('missing notin (x)')).toBe(true);
  expect(matches('missing in (x)')).toBe(false);
  expect(matches('tier,!missing')).toBe(true);
  expect(matches('!tier')).toBe(false);
  expect(matches('attempt>2,attempt<4')).toBe(true);
  expect(matches('app=')).toBe(false);
});

test('malformed label selectors are 400 BadRequest errors', () => {
  for (const bad of ['app in ()', 'app=in valid', ',', 'app==x y', 'attempt>two', 'bad key=1']) {
    expect(() => parseLabelSelector(bad)).toThrow(expect.objectContaining({ code: 400 }));
  }
});

test('json merge patch merges objects, replaces arrays and removes on null', () => {
  expect(applyMergePatch({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: null, e: 'x' })).toEqual({ a: { b: 1, c: [3] }, e: 'x' });
});

test('json patch supports add, remove, replace, move, copy and test, and never changes its input', () => {
  const doc = { spec: { args: ['a', 'b'], image: 'v1' }, metadata: { labels: { x: '1' } } };
  const patched = applyJsonPatch(doc, [
    { op: 'add', path: '/spec/args/1', value: 'between' },
    { op: 'remove', path: '/spec/args/0' },
    { op: 'copy', from: '/spec/image', path: '/metadata/labels/image' },
    { op: 'move', from: '/metadata/labels/x', path: '/metadata/labels/y' },
    { op: 'replace', path: '/spec/image', value: 'v2' },
    { op: 'add', path: '/metadata/labels/a~1b', value: 'escaped' },
    { op: 'test', path: '/spec/args', value: ['between', 'b'] },
  ]);
  expect(patched).toEqual({ spec: { args: ['between', 'b'], image: 'v2' }, metadata: { labels: { image: 'v1', y: '1', 'a/b': 'escaped' } } });
  expect(doc).toEqual({ spec: { args: ['a', 'b'], image: 'v1' }, metadata: { labels: { x: '1' } } });
  expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/spec/missing/x', value: 1 }])).toThrow(PatchApplyError);
  expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/spec/args/5' }])).toThrow(PatchApplyError);
});
