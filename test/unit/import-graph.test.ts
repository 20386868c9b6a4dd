import { importCircles, importGraph, reachable } from '../helpers/import-graph';
import { REPO_ROOT } from '../helpers/temporal';

// Dependencies point one way: workflows → (types of) activities → domain ← platforms, stores,
// clients. These checks read the import statements of the source (type imports count too: a
// circle of types is still a circle for a reader).
const graph = importGraph(REPO_ROOT, ['src', 'demo', 'test', 'bench']);
const under = (prefix: string) => [...graph.keys()].filter((m) => m.startsWith(prefix));

test('the import graph has no circle', () => {
  expect(importCircles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
});

test('the circle check finds a circle (of types too)', () => {
  const circle = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
    ['d.ts', ['a.ts']],
  ]);
  expect(importCircles(circle)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
});

test('the Spark platform contract stands alone: it imports no platform implementation', () => {
  const contract = 'src/spark/platform.ts';
  expect(graph.has(contract)).toBe(true);
  expect([...reachable(graph, [contract])].filter((m) => !m.startsWith('src/domain/') && !m.startsWith('src/common/'))).toEqual([]);
});

test('activities reach no workflow code: only the contract shared with clients (messages, search attributes)', () => {
  const contract = ['src/workflows/messages.ts', 'src/workflows/search-attributes.ts'];
  const reached = [...reachable(graph, under('src/activities/'))].filter((m) => m.startsWith('src/workflows/'));
  expect(reached.filter((m) => !contract.includes(m))).toEqual([]);
});

test('the domain imports nothing but the domain', () => {
  const outside = under('src/domain/').flatMap((m) => (graph.get(m) ?? []).filter((d) => !d.startsWith('src/domain/')).map((d) => `${m} → ${d}`));
  expect(outside).toEqual([]);
});

test('what ships (src) imports nothing from test or bench support, and demo support only where the CLI wires in its demo commands', () => {
  const cliEntry = 'src/cli/main.ts';
  const outside = under('src/').flatMap((m) =>
    (graph.get(m) ?? []).filter((d) => !d.startsWith('src/') && !(m === cliEntry && d.startsWith('demo/'))).map((d) => `${m} → ${d}`),
  );
  expect(outside).toEqual([]);
  expect((graph.get(cliEntry) ?? []).some((d) => d.startsWith('demo/'))).toBe(true);
});
