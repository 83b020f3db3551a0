import type { z } from 'zod';
import { closest } from './suggest.js';

/** Marks an issue as "a secret written in the file": the error formatter suggests an env:NAME from the path. */
export const LITERAL_SECRET = 'literalSecret';

/** Where fields are written, when the file format can tell (YAML and JSON can; JS modules cannot). */
export interface Locator {
  locate(path: readonly PropertyKey[]): string;
  locateKey(path: readonly PropertyKey[]): string;
}

/** `hosts.core-sw1.groups[0]`: how the user finds the field in the file. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

type AnySchema = z.core.$ZodType;

/** The keys an object schema accepts at `path` (through records, arrays, unions, optionals and pipes). */
export function knownKeysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  const visit = (node: AnySchema, rest: readonly PropertyKey[], depth: number): void => {
    if (depth > 50) return;
    const def = node._zod.def as unknown as Record<string, unknown> & { type: string };
    const child = (key: string) => def[key] as AnySchema;
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
        visit(child('innerType'), rest, depth + 1);
        return;
      case 'pipe': {
        // z.preprocess: in is a transform, out the schema; .transform(): in is the schema.
        const out = child('out');
        const into = (out._zod.def as { type: string }).type === 'transform' ? child('in') : out;
        visit(into, rest, depth + 1);
        return;
      }
      case 'union':
        for (const option of def.options as AnySchema[]) visit(option, rest, depth + 1);
        return;
      case 'record':
        if (rest.length > 0) visit(child('valueType'), rest.slice(1), depth + 1);
        return;
      case 'array':
        if (rest.length > 0) visit(child('element'), rest.slice(1), depth + 1);
        return;
      case 'object': {
        const shape = def.shape as Record<string, AnySchema>;
        if (rest.length === 0) {
          for (const key of Object.keys(shape)) keys.add(key);
          return;
        }
        const next = shape[String(rest[0])];
        if (next) visit(next, rest.slice(1), depth + 1);
        return;
      }
    }
  };
  visit(schema, path, 0);
  return [...keys];
}

/** `hosts.core-sw1.password` → `CORE_SW1_PASSWORD`: a variable name to suggest for a literal secret. */
function suggestedVariable(path: readonly PropertyKey[]): string {
  // Drop the section (hosts/groups/defaults): the host or group name and the field are what identify it.
  const name = path
    .slice(1)
    .map(String)
    .join('_')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
  return /^[0-9]/.test(name) ? `HOST_${name}` : name;
}

/** Whether a union branch got past the type check (its issues say more than "expected object"). */
function wentDeeper(issues: readonly z.core.$ZodIssue[]): boolean {
  return issues.some((issue) => issue.code !== 'invalid_type' || issue.path.length > 0);
}

function plain(message: string): string {
  return message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, '');
}

/**
 * One line per problem: `file:line:col: hosts.core-sw1.prot: unknown key (did you mean "port"?) ...`.
 * Messages never quote a value from the file (it might be a secret), only keys and names.
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  schema: AnySchema,
  file: string,
  locator: Locator | undefined,
  base: readonly PropertyKey[] = [],
): string[] {
  const lines: string[] = [];
  const at = (path: readonly PropertyKey[], key = false) =>
    locator ? (key ? locator.locateKey(path) : locator.locate(path)) : file;
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(schema, path);
        for (const key of issue.keys) {
          const guess = closest(key, known);
          lines.push(
            `${at([...path, key], true)}: ${formatFieldPath([...path, key])}: unknown key${
              guess ? ` (did you mean "${guess}"?)` : ''
            }; expected one of: ${known.join(', ')}`,
          );
        }
        break;
      }
      case 'invalid_union': {
        const deeper = issue.errors.filter(wentDeeper);
        const options = (issue as { options?: unknown[] }).options;
        if (deeper.length === 1) {
          lines.push(...formatIssues(deeper[0] as z.core.$ZodIssue[], schema, file, locator, path));
        } else if (Array.isArray(options)) {
          // A discriminated union whose discriminator fits no option: name the options.
          lines.push(
            `${at(path)}: ${formatFieldPath(path)}: expected one of ${options.map((o) => JSON.stringify(o)).join('|')}`,
          );
        } else {
          lines.push(`${at(path)}: ${formatFieldPath(path)}: expected ${plain(issue.message)}`);
        }
        break;
      }
      case 'invalid_key': {
        const reason = issue.issues.map((inner) => plain(inner.message)).join('; ');
        lines.push(`${at(path, true)}: ${formatFieldPath(path)}: invalid name, expected ${reason}`);
        break;
      }
      case 'invalid_type': {
        const missing = /received undefined$/.test(issue.message);
        lines.push(
          `${at(path)}: ${formatFieldPath(path)}: ${missing ? `missing, expected ${issue.expected}` : plain(issue.message)}`,
        );
        break;
      }
      case 'custom': {
        let message = issue.message;
        if (issue.params?.[LITERAL_SECRET]) message += ` (e.g. env:${suggestedVariable(path)})`;
        lines.push(`${at(path)}: ${formatFieldPath(path)}: ${message}`);
        break;
      }
      default:
        lines.push(`${at(path)}: ${formatFieldPath(path)}: ${plain(issue.message)}`);
    }
  }
  return lines;
}
