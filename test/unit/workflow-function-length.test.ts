import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../helpers/temporal';

// Workflow code reads in one screen per function: the night as its steps, each step short.
const MAX_LINES = 100;

function functionLengths(file: string): { where: string; lines: number }[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: { where: string; lines: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isMethodDeclaration(node)) {
      const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ where: `${path.relative(REPO_ROOT, file)}:${first + 1}`, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const workflowFiles = (fs.readdirSync(path.join(REPO_ROOT, 'src', 'workflows'), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join(REPO_ROOT, 'src', 'workflows', f));

test(`no function in src/workflows is longer than ${MAX_LINES} lines`, () => {
  const all = workflowFiles.flatMap(functionLengths);
  expect(all.length).toBeGreaterThan(10);
  expect(all.filter((f) => f.lines > MAX_LINES)).toEqual([]);
});
