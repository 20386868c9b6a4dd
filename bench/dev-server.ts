import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SearchAttr } from '../src/workflows/search-attributes';

/** The Temporal CLI dev server of the bootstrap's venv, with Nightjar's search attributes, for one benchmark. */
export function benchDevServer(repoRoot: string, extraArgs: string[] = []): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: path.join(repoRoot, '.venv', 'bin', 'temporal') },
      log: { format: 'json', level: 'error' },
      searchAttributes: Object.values(SearchAttr),
      ...(extraArgs.length > 0 ? { extraArgs } : {}),
    },
  });
}

/** The workflow code as the benchmarks compiled it (`tsc -p tsconfig.bench.json`). */
export const benchWorkflowsPath = (repoRoot: string): string => path.join(repoRoot, '.cache', 'bench-build', 'src', 'workflows', 'index.js');
