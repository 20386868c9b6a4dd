/** A configuration problem, naming each variable and what it accepts. */
export class ConfigError extends Error {
  readonly type = 'InvalidInput';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}
