/** A config file that cannot be used; the message names the file, the place in it and the fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * A problem found after the schema (a group that does not exist, say). `path` lets the loader point at
 * the line and column, as schema errors do.
 */
export class ConfigFieldError extends Error {
  constructor(
    readonly path: (string | number)[],
    message: string,
  ) {
    super(message);
  }
}
