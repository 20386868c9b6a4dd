/**
 * How the CLI ends: 0 done, 1 the operation was refused (by the workflow, the server or the state
 * of the night) or Temporal could not be reached, 2 the command line or the configuration is wrong. Scripts and runbooks rely on
 * the difference: a 2 needs a fixed command, a 1 a look at the night.
 */
import { CommanderError } from 'commander';
import { ConfigError } from '../config/config';
import { TriggerRejected } from '../triggers/errors';

export const ExitCode = { Ok: 0, Refused: 1, Usage: 2 } as const;

/** Flags that parse one by one but not together (e.g. `--from` after `--to`). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The operation reached Temporal and was refused: the message says by whom and why. */
export class OperationRefused extends Error {
  override readonly name = 'OperationRefused';
}

/** Temporal could not be reached: nothing was done. */
export class TemporalUnreachable extends Error {
  override readonly name = 'TemporalUnreachable';
}

/** Commander's codes for a command line it cannot parse. */
const USAGE_CODES: ReadonlySet<string> = new Set([
  'commander.invalidArgument',
  'commander.unknownOption',
  'commander.unknownCommand',
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.excessArguments',
  'commander.conflictingOption',
  // A command group called without a command prints its help as an error.
  'commander.help',
]);

/** The exit code for an error the CLI knows, or undefined for an unexpected one. */
export function exitCodeOf(error: unknown): number | undefined {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return ExitCode.Ok;
    return USAGE_CODES.has(error.code) ? ExitCode.Usage : error.exitCode;
  }
  if (error instanceof UsageError || error instanceof ConfigError) return ExitCode.Usage;
  if (error instanceof OperationRefused || error instanceof TriggerRejected || error instanceof TemporalUnreachable) return ExitCode.Refused;
  return undefined;
}
