/**
 * A command line the policy cannot split with certainty (unbalanced quotes, an unterminated `$(`, nesting
 * too deep). With a policy active the command is refused with this message: what the policy cannot read,
 * it cannot allow.
 */
export class PolicyParseError extends Error {
  override name = 'PolicyParseError';
}

/** A policy in the config that cannot be used: an unknown preset, an invalid `re:` pattern. */
export class PolicyConfigError extends Error {
  override name = 'PolicyConfigError';
}
