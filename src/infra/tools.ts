import path from 'node:path';

/** Executables the bootstrap installs into the project's virtual environment. */
export function venvTool(repoRoot: string, name: 'temporal' | 'temporal-test-server' | 'spark-submit' | 'python'): string {
  return path.join(repoRoot, '.venv', 'bin', name);
}
