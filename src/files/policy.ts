import type { LoadedConfig } from '../config/load.js';
import { FileError } from './errors.js';
import { pathGlob, remotePath } from './paths.js';

interface Rule {
  pattern: string;
  origin: string;
}

/** The remote path rules of one host: its defaults, groups and own entry, combined like command rules. */
export interface PathRules {
  allow: Rule[];
  deny: Rule[];
  /** Rules of other entries that describe the same host: a path must pass them too. */
  also?: PathRules[];
}

/** The rules of every config entry that describes a host (the first is its own). */
export function pathRulesOfHost(config: LoadedConfig | undefined, names: string[]): PathRules {
  const [first = '', ...rest] = names;
  const rules = pathRulesFor(config, first);
  return rest.length === 0 ? rules : { ...rules, also: rest.map((name) => pathRulesFor(config, name)) };
}

/** Rules for a host name as the tool call gave it (an inventory name, else `defaults` only). */
export function pathRulesFor(config: LoadedConfig | undefined, host: string): PathRules {
  const rules: PathRules = { allow: [], deny: [] };
  if (!config) return rules;
  const c = config.config;
  const entry = c.hosts && Object.hasOwn(c.hosts, host) ? c.hosts[host] : undefined;
  const levels: [string, { policy?: { paths?: { allow?: string[]; deny?: string[] } } } | undefined][] = [
    ['defaults', c.defaults],
    ...(entry?.groups ?? []).map((g): [string, (typeof levels)[number][1]] => [`group ${g}`, c.groups?.[g]]),
    [`host ${host}`, entry],
  ];
  for (const [origin, level] of levels) {
    for (const pattern of level?.policy?.paths?.allow ?? []) rules.allow.push({ pattern, origin });
    for (const pattern of level?.policy?.paths?.deny ?? []) rules.deny.push({ pattern, origin });
  }
  return rules;
}

export const hasRules = (rules: PathRules): boolean =>
  rules.allow.length > 0 || rules.deny.length > 0 || (rules.also ?? []).some(hasRules);

/**
 * Throws unless `path` (absolute, normalised) passes: any matching deny refuses it, whatever allows it;
 * when any allow rule exists, only matching paths pass. Patterns starting with `~` mean the login folder.
 */
export function checkPath(rules: PathRules, path: string, home: string): void {
  const matches = matcher(path, home);
  const denied = rules.deny.find(matches);
  if (denied) {
    throw new FileError(path, 'refused by policy', `deny "${denied.pattern}" (${denied.origin})`);
  }
  if (rules.allow.length > 0 && !rules.allow.some(matches)) {
    const allowed = rules.allow.map((r) => `"${r.pattern}"`).join(', ');
    throw new FileError(path, 'refused by policy', `not under an allowed path: ${allowed}`);
  }
  for (const other of rules.also ?? []) checkPath(other, path, home);
}

/** Whether an allow rule of every entry describing the host matches `path` (a deliberate permission). */
export function allowedByName(rules: PathRules, path: string, home: string): boolean {
  // `~/**` allows everything under a folder, not this file by name.
  const named = rules.allow.filter((r) => !r.pattern.endsWith('**'));
  return named.some(matcher(path, home)) && (rules.also ?? []).every((r) => allowedByName(r, path, home));
}

const matcher = (path: string, home: string) => (rule: Rule) =>
  pathGlob(rule.pattern.startsWith('~') ? expand(rule.pattern, home) : rule.pattern).test(path);

/** `~/**` keeps its globs: only the leading `~` is replaced (remotePath would treat `**` as a name). */
function expand(pattern: string, home: string): string {
  if (pattern === '~') return home;
  return remotePath('~/', home) + pattern.slice(1);
}
