import { globMatcher } from '../util/glob-match.js';
import { closest } from '../util/suggest.js';
import type { Inventory } from './inventory.js';

/**
 * Which hosts a fan-out (execute_on_hosts) runs on. Each target is one of:
 * - a host name: an inventory name, or (unless the server is inventory-only) any host execute_command takes;
 * - `group:NAME`: the inventory hosts in that group;
 * - `tag:NAME`: the inventory hosts with that tag;
 * - `dialect:NAME`: the inventory hosts whose dialect (host, group or defaults) is NAME;
 * - a glob with `*` or `?` on inventory names (`core-*`, `r?1`).
 * Hosts come out once each, in the order first selected.
 */

export interface TargetSelection {
  hosts: string[];
  /** Selectors that matched no host (the fan-out goes on with the rest, and says so). */
  empty: string[];
}

/** A target that cannot mean anything (a group or selector kind that does not exist); nothing is run. */
export class TargetError extends Error {}

const KINDS = ['group', 'tag', 'dialect'] as const;
type Kind = (typeof KINDS)[number];

export function isGlob(target: string): boolean {
  return /[*?]/.test(target);
}

export function selectTargets(targets: readonly string[], inventory: Inventory | undefined): TargetSelection {
  const hosts = new Set<string>();
  const empty: string[] = [];
  const names = inventory?.names() ?? [];
  for (const raw of targets) {
    const target = raw.trim();
    if (!target) continue;
    const selector = /^([a-z]+):(.+)$/.exec(target);
    let found: string[];
    if (selector && (KINDS as readonly string[]).includes(selector[1] as string)) {
      found = bySelector(selector[1] as Kind, selector[2] as string, inventory, target);
    } else if (selector && !/^\d+$/.test(selector[2] as string)) {
      // `host:22` is a port, not a selector; `group:x`, `tag:x`, `dialect:x` are the selectors.
      throw new TargetError(
        `"${target}": unknown selector "${selector[1]}:"; use group:NAME, tag:NAME, dialect:NAME, a glob on names (core-*) or a host name`,
      );
    } else if (isGlob(target)) {
      if (!inventory) throw needsInventory(target);
      const glob = globMatcher(target);
      found = names.filter((name) => glob.test(name));
    } else {
      found = [target];
    }
    if (found.length === 0) empty.push(target);
    for (const host of found) hosts.add(host);
  }
  return { hosts: [...hosts], empty };
}

function bySelector(kind: Kind, value: string, inventory: Inventory | undefined, target: string): string[] {
  if (!inventory) throw needsInventory(target);
  if (kind === 'group' && !inventory.groupNames().includes(value)) {
    const guess = closest(value, inventory.groupNames());
    throw new TargetError(
      `no group named "${value}"${guess ? ` (did you mean "${guess}"?)` : ''}; groups: ${inventory.groupNames().join(', ') || 'none'}`,
    );
  }
  return inventory.names().filter((name) => {
    const settings = inventory.settings(name);
    if (!settings) return false;
    if (kind === 'group') return settings.groups.includes(value);
    if (kind === 'tag') return settings.tags.includes(value);
    return (settings.entry.dialect ?? settings.fallback.dialect) === value;
  });
}

function needsInventory(target: string): TargetError {
  return new TargetError(
    `"${target}" selects from the inventory, and this server has no config file: name the hosts one by one`,
  );
}
