import { type Glob, globMatcher } from '../util/glob-match.js';

/**
 * OpenSSH pattern lists (ssh_config(5) PATTERNS), as used by `Host` lines and known_hosts host fields:
 * comma- or space-separated patterns with `*` and `?`, a leading `!` negates. A matching negated pattern
 * vetoes the whole list, whatever else matches.
 */
export function matchPatternList(patterns: string[], text: string, ignoreCase = false): boolean {
  const subject = ignoreCase ? text.toLowerCase() : text;
  let matched = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (!pattern) continue;
    if (wildcard(ignoreCase ? pattern.toLowerCase() : pattern).test(subject)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/**
 * `*` = any run of characters, `?` = exactly one; everything else literal. Matched in linear time: the
 * text can be a host name a caller chose.
 */
export function wildcard(pattern: string): Glob {
  return globMatcher(pattern);
}
