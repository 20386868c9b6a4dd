import fs from 'node:fs';
import { ConfigError } from './config-error';

/**
 * Secrets that may instead be read from a file, `<NAME>_FILE` (a Kubernetes Secret mounted as a
 * file keeps them out of the process environment). Token lists may be one per line.
 */
export const FILE_VARIABLES = ['NIGHTJAR_REPORTING_PG_URL', 'NIGHTJAR_HTTP_TOKENS', 'NIGHTJAR_CODEC_TOKENS'] as const;

export type ReadSecretFile = (file: string) => string;
export const readSecretFile: ReadSecretFile = (file) => fs.readFileSync(file, 'utf8');

/** The environment with every `<NAME>_FILE` of FILE_VARIABLES replaced by `<NAME>` and the file's content. */
export function resolveFileVariables(env: Record<string, string | undefined>, read: ReadSecretFile): Record<string, string | undefined> {
  const resolved = { ...env };
  const problems: string[] = [];
  for (const name of FILE_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name}_FILE=${JSON.stringify(file)}: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    let content: string;
    try {
      content = read(file);
    } catch (error) {
      problems.push(`${name}_FILE=${JSON.stringify(file)}: cannot read the file (${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    const value = content
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0)
      .join(',');
    if (value === '') problems.push(`${name}_FILE=${JSON.stringify(file)}: the file is empty`);
    else resolved[name] = value;
    delete resolved[`${name}_FILE`];
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

/** Whether a variable holds a secret (its value is never shown in an error). */
export const isSecretVariable = (name: string): boolean => (FILE_VARIABLES as readonly string[]).includes(name);
