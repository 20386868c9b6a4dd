import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** The modules of a source tree and what each imports (relative imports, `import type` included), as repository-relative paths. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function resolveImport(root: string, from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  const found = [`${base}.ts`, path.join(base, 'index.ts'), base].find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  return found === undefined ? undefined : path.relative(root, found).split(path.sep).join('/');
}

/** Every import of the `.ts` files under `dirs`: declarations, re-exports, `import('…')` types and calls, `require`. */
export function importGraph(root: string, dirs: readonly string[]): ImportGraph {
  const graph = new Map<string, string[]>();
  const present = dirs.map((d) => path.join(root, d)).filter((d) => fs.existsSync(d));
  for (const file of present.flatMap(sourceFiles)) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const specs: string[] = [];
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        specs.push(node.moduleSpecifier.text);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        specs.push(node.argument.literal.text);
      } else if (ts.isCallExpression(node) && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
        const callee = node.expression;
        if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) specs.push(node.arguments[0].text);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    const deps = specs.map((s) => resolveImport(root, file, s)).filter((d): d is string => d !== undefined);
    graph.set(path.relative(root, file).split(path.sep).join('/'), [...new Set(deps)]);
  }
  return graph;
}

/** The import circles: groups of modules that reach each other (Tarjan's strongly connected components), each as one cycle path. */
export function importCircles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) groups.push(cyclePath(graph, new Set(group), v));
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return groups;
}

/** One cycle through `start` inside a strongly connected group, for a readable message (a → b → … → a). */
function cyclePath(graph: ImportGraph, group: ReadonlySet<string>, start: string): string[] {
  const seen = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift() as string;
    for (const w of graph.get(v) ?? []) {
      if (w === start) {
        const cycle = [start];
        for (let u = v; u !== start; u = seen.get(u) as string) cycle.splice(1, 0, u);
        return [...cycle, start];
      }
      if (group.has(w) && !seen.has(w)) {
        seen.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...group];
}

/** Every module `from` reaches through its imports (itself excluded). */
export function reachable(graph: ImportGraph, from: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...from];
  while (queue.length > 0) {
    for (const w of graph.get(queue.shift() as string) ?? []) {
      if (!seen.has(w)) {
        seen.add(w);
        queue.push(w);
      }
    }
  }
  return seen;
}
