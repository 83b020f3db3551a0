import type { z } from 'zod';
import { knownKeysAt } from '../util/zod-issues.js';

/** More than this many problems in one call are counted, not listed. */
const MAX_ISSUES = 5;
/** Field names are shown up to this length: a hostile key can be megabytes long. */
const MAX_NAME = 60;

type Issue = z.core.$ZodIssue;

/** `a.b[0]` for a field path, each name cut short; `root` for the value as a whole. */
export function fieldName(path: readonly PropertyKey[], root: string): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += `${out ? '.' : ''}${short(String(part))}`;
  }
  return out || root;
}

export function short(text: string, max = MAX_NAME): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** What a JSON value is, in words: `a string`, `null`, `an array`. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  record: 'an object',
  array: 'an array',
};

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const part of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

/**
 * One problem per field, the one worth saying: zod also runs a string's length check on an array it has
 * already refused ("expected a string, got an array; must have at least 1 items"), and adds the safe
 * integer bound next to the real one ("at most 9007199254740991; at most 65535").
 */
function mainIssues(issues: readonly Issue[]): Issue[] {
  const byPath = new Map<string, Issue[]>();
  for (const issue of issues) {
    const key = JSON.stringify(issue.path.map(String));
    byPath.set(key, [...(byPath.get(key) ?? []), issue]);
  }
  const safeBound = (i: Issue) =>
    (i.code === 'too_big' && Number(i.maximum) === Number.MAX_SAFE_INTEGER) ||
    (i.code === 'too_small' && Number(i.minimum) === Number.MIN_SAFE_INTEGER);
  return [...byPath.values()].flatMap((group) => {
    const type = group.find((i) => i.code === 'invalid_type');
    if (type) return [type];
    const real = group.filter((i) => !safeBound(i));
    return real.length > 0 ? real : group.slice(0, 1);
  });
}

function bound(issue: Issue & { code: 'too_small' | 'too_big' }): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'string':
      if (small && limit === 1) return 'must not be empty';
      return `must be ${small ? 'at least' : 'at most'} ${limit} characters long`;
    case 'array':
      return `must have ${small ? 'at least' : 'at most'} ${limit} items`;
    default: {
      const words = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
      return `must be ${words} ${limit}`;
    }
  }
}

function describe(issue: Issue, input: unknown, schema: z.core.$ZodType | undefined, root: string): string {
  const field = fieldName(issue.path, root);
  switch (issue.code) {
    case 'invalid_type': {
      const value = valueAt(input, issue.path);
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return value === undefined && issue.path.length > 0
        ? `${field}: missing (${expected} is required)`
        : `${field}: expected ${expected}, got ${kindOf(value)}`;
    }
    case 'too_small':
    case 'too_big':
      return `${field}: ${bound(issue)}`;
    case 'invalid_value':
      return `${field}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys': {
      const keys = issue.keys.slice(0, 3).map((key) => `"${short(key)}"`);
      const more = issue.keys.length > 3 ? ` and ${issue.keys.length - 3} more` : '';
      const known = schema ? knownKeysAt(schema, issue.path) : [];
      const takes = known.length > 0 ? `; it takes: ${known.join(', ')}` : '';
      return `${field}: unknown member${issue.keys.length > 1 ? 's' : ''} ${keys.join(', ')}${more}${takes}`;
    }
    default:
      return `${field}: ${issue.message.replace(/^Invalid (input|option): /, '')}`;
  }
}

/**
 * Zod issues as one short line an agent can act on: which field, what it takes, what it got. Never the
 * value itself (it may be a secret or megabytes long), only its kind.
 */
export function describeIssues(
  all: readonly Issue[],
  input: unknown,
  schema?: z.core.$ZodType,
  root = 'arguments',
): string {
  const issues = mainIssues(all);
  const lines = issues.slice(0, MAX_ISSUES).map((issue) => describe(issue, input, schema, root));
  if (issues.length > MAX_ISSUES) lines.push(`and ${issues.length - MAX_ISSUES} more problems`);
  return lines.join('; ');
}
