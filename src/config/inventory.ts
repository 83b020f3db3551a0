import { homedir } from 'node:os';
import path from 'node:path';
import type { PolicyRules } from '../policy/policy.js';
import type { HostAlgorithms } from '../ssh/algorithms.js';
import type { HostKeyOptions } from '../ssh/known-hosts.js';
import { expandTilde } from '../ssh/paths.js';
import { SECRET_KINDS, SECRET_NAMES, type SecretKey } from '../util/secrets.js';
import { closest } from '../util/suggest.js';
import { ConfigFieldError } from './errors.js';
import type { AlgorithmKind, AlgorithmsConfig, Config, DefaultsConfig, PolicyConfig } from './schema.js';
import { describeSecret, type SecretRef } from './secrets.js';

/** The command policy types are the policy module's: the config only gathers the rules. */
export type { PatternSpec, PolicyRules } from '../policy/policy.js';

/**
 * Connection fields of one precedence level. Names follow the ssh layer's HostEntry so they can be handed
 * over as they are; paths are absolute, secrets are references (resolve them with resolveSecret).
 */
export interface MergedFields {
  hostName?: string;
  port?: number;
  user?: string;
  identityFile?: string;
  proxyJump?: string;
  dialect?: string;
  /** Folder for transcripts of this host's sessions. */
  record?: string;
  password?: SecretRef;
  keyPassphrase?: SecretRef;
  enablePassword?: SecretRef;
  sudoPassword?: SecretRef;
  /** Where each set field came from, for check-config: `host core-sw1`, `group network`, `defaults`. */
  origins: Partial<Record<MergedField, string>>;
}
export type MergedField = Exclude<keyof MergedFields, 'origins'>;

/** Handed to the ssh layer as they are. */
export type HostKeySettings = HostKeyOptions;
/** ssh2's ConnectConfig.algorithms: per kind a list (replaces ssh2's defaults) or edits of the defaults. */
export type AlgorithmSettings = HostAlgorithms;

/** One host as the config describes it, precedence applied except where ~/.ssh/config goes. */
export interface HostSettings {
  /** The inventory name (or, from defaults(name), the name asked for). */
  name: string;
  /** false for a name that is not in `hosts` (settings from `defaults` only). */
  inInventory: boolean;
  /** The host entry, then its groups (first listed group that sets a field wins). Beats ~/.ssh/config. */
  entry: MergedFields;
  /** `defaults`: used where neither `entry` nor ~/.ssh/config says anything. */
  fallback: MergedFields;
  /** defaults + groups + host, combined. */
  policy: PolicyRules;
  /**
   * Per field host > groups > defaults; undefined when no level sets any (built-in: accept-new). With
   * fingerprints (pinned) it holds only those: policy and known_hosts do not apply to a pinned host.
   */
  hostKey?: HostKeySettings;
  /** Per algorithm kind host > groups > defaults; undefined when no level sets any (ssh2's defaults). */
  algorithms?: AlgorithmSettings;
  tags: string[];
  groups: string[];
  description?: string;
}

/** One host for listings (list_hosts, check-config): no secret values, only which references are set up. */
export interface HostSummary {
  name: string;
  /** The address the config gives, else the name (~/.ssh/config may still map it). */
  host: string;
  /** From the config only (entry, else defaults); ~/.ssh/config is not consulted here. */
  port?: number;
  user?: string;
  dialect?: string;
  jump?: string;
  description?: string;
  tags: string[];
  groups: string[];
  /** e.g. `{ password: 'env:CORE_SW1_PASSWORD (set)' }` */
  secrets: Partial<Record<SecretKey, string>>;
  /** e.g. `preset read-only; allow 2; deny 1`, or `none` */
  policy: string;
}

/** Fields of a host entry, group or `defaults` that precedence applies to (host_key/algorithms apart). */
type Level = DefaultsConfig & { host?: string };

const ALGORITHM_KEYS: Record<AlgorithmKind, keyof AlgorithmSettings> = {
  kex: 'kex',
  server_host_key: 'serverHostKey',
  cipher: 'cipher',
  hmac: 'hmac',
  compress: 'compress',
};

/** "~/x" and "x" (relative to the config file's folder) to an absolute path. */
export function resolveConfigPath(file: string, configDir: string): string {
  return path.resolve(configDir, expandTilde(file, homedir()));
}

export function policySummary(rules: PolicyRules): string {
  const parts: string[] = [];
  if (rules.presets.length > 0)
    parts.push(`preset ${[...new Set(rules.presets.map((p) => p.name))].join(', ')}`);
  if (rules.allow.length > 0) parts.push(`allow ${rules.allow.length}`);
  if (rules.deny.length > 0) parts.push(`deny ${rules.deny.length}`);
  return parts.length > 0 ? parts.join('; ') : 'none';
}

/** The hosts, groups and defaults of a config file, resolved against the file's folder. */
export class Inventory {
  private readonly hosts: NonNullable<Config['hosts']>;
  private readonly groupConfigs: NonNullable<Config['groups']>;
  private readonly defaultsConfig: DefaultsConfig;

  /** Throws ConfigFieldError for what the schema cannot see (a group that does not exist). */
  constructor(
    config: Config,
    /** The config file's folder: relative paths start there. */
    private readonly configDir: string,
  ) {
    this.hosts = config.hosts ?? {};
    this.groupConfigs = config.groups ?? {};
    this.defaultsConfig = config.defaults ?? {};
    this.check();
  }

  names(): string[] {
    return Object.keys(this.hosts);
  }

  has(name: string): boolean {
    return Object.hasOwn(this.hosts, name);
  }

  /** The names of the groups defined in the file. */
  groupNames(): string[] {
    return Object.keys(this.groupConfigs);
  }

  settings(name: string): HostSettings | undefined {
    if (!this.has(name)) return undefined;
    const host = this.hosts[name] ?? {};
    const groups = host.groups ?? [];
    const levels: [string, Level][] = [
      [`host ${name}`, host],
      ...groups.map((group): [string, Level] => [`group ${group}`, this.groupConfigs[group] ?? {}]),
    ];
    const withDefaults: [string, Level][] = [...levels, ['defaults', this.defaultsConfig]];
    return {
      name,
      inInventory: true,
      entry: this.merge(levels),
      fallback: this.merge([['defaults', this.defaultsConfig]]),
      // Policies read most general first: defaults, then groups, then the host.
      policy: combinePolicies([...withDefaults].reverse()),
      hostKey: this.mergeHostKey(withDefaults),
      algorithms: mergeAlgorithms(withDefaults),
      tags: host.tags ?? [],
      groups,
      description: host.description,
    };
  }

  /** What applies to a host that is not in the inventory (an address or ssh-config alias): `defaults`. */
  defaults(name = ''): HostSettings {
    const levels: [string, Level][] = [['defaults', this.defaultsConfig]];
    return {
      name,
      inInventory: false,
      entry: { origins: {} },
      fallback: this.merge(levels),
      policy: combinePolicies(levels),
      hostKey: this.mergeHostKey(levels),
      algorithms: mergeAlgorithms(levels),
      tags: [],
      groups: [],
    };
  }

  list(): HostSummary[] {
    return this.names().map((name) => summarize(this.settings(name) as HostSettings));
  }

  private check(): void {
    for (const [name, host] of Object.entries(this.hosts)) {
      (host.groups ?? []).forEach((group, index) => {
        if (Object.hasOwn(this.groupConfigs, group)) return;
        const known = this.groupNames();
        const guess = closest(group, known);
        throw new ConfigFieldError(
          ['hosts', name, 'groups', index],
          `no group named "${group}"${guess ? ` (did you mean "${guess}"?)` : ''}; ${
            known.length > 0 ? `groups: ${known.join(', ')}` : 'add it under `groups:`'
          }`,
        );
      });
      const hops = (host.jump ?? '').split(',').map((hop) => hop.trim());
      if (hops.includes(name)) {
        throw new ConfigFieldError(['hosts', name, 'jump'], `"${name}" cannot be its own jump host`);
      }
    }
  }

  /** The first level that sets a field wins; paths are resolved here, once. */
  private merge(levels: [string, Level][]): MergedFields {
    const merged: MergedFields = { origins: {} };
    const take = <K extends MergedField>(field: K, origin: string, value: MergedFields[K] | undefined) => {
      if (value === undefined || merged[field] !== undefined) return;
      merged[field] = value;
      merged.origins[field] = origin;
    };
    for (const [origin, level] of levels) {
      take('hostName', origin, level.host);
      take('port', origin, level.port);
      take('user', origin, level.user);
      take('identityFile', origin, level.key === undefined ? undefined : this.path(level.key));
      take('proxyJump', origin, level.jump);
      take('dialect', origin, level.dialect);
      take('record', origin, level.record === undefined ? undefined : this.path(level.record));
      for (const name of SECRET_NAMES) {
        const { key, field } = SECRET_KINDS[name];
        const ref = level[key];
        take(field, origin, ref === undefined ? undefined : this.secret(ref));
      }
    }
    return merged;
  }

  private mergeHostKey(levels: [string, Level][]): HostKeySettings | undefined {
    const merged: HostKeySettings = {};
    for (const [, level] of levels) {
      const hostKey = level.host_key;
      if (!hostKey) continue;
      if (merged.policy === undefined && hostKey.policy !== undefined) merged.policy = hostKey.policy;
      if (merged.fingerprints === undefined && hostKey.fingerprints !== undefined) {
        merged.fingerprints = hostKey.fingerprints;
      }
      if (merged.knownHostsFile === undefined && hostKey.known_hosts !== undefined) {
        merged.knownHostsFile = this.path(hostKey.known_hosts);
      }
    }
    // Pinned keys are the whole check: no policy or known_hosts file is left to apply.
    if (merged.fingerprints) return { fingerprints: merged.fingerprints };
    return Object.keys(merged).length > 0 ? merged : undefined;
  }

  private path(file: string): string {
    return resolveConfigPath(file, this.configDir);
  }

  private secret(ref: SecretRef): SecretRef {
    return ref.kind === 'file' ? { kind: 'file', path: this.path(ref.path) } : ref;
  }
}

function mergeAlgorithms(levels: [string, Level][]): AlgorithmSettings | undefined {
  const merged: AlgorithmSettings = {};
  for (const [, level] of levels) {
    const algorithms: AlgorithmsConfig | undefined = level.algorithms;
    if (!algorithms) continue;
    for (const [kind, key] of Object.entries(ALGORITHM_KEYS) as [AlgorithmKind, keyof AlgorithmSettings][]) {
      const list = algorithms[kind];
      if (list !== undefined && merged[key] === undefined) merged[key] = list;
    }
  }
  return Object.keys(merged).length > 0 ? merged : undefined;
}

/**
 * The policies of these levels (each named by where it is written, e.g. `hosts.core1`, `roles.ops`),
 * most general first, so the rules read in the order a person would explain them.
 */
export function combinePolicies(levels: [string, { policy?: PolicyConfig }][]): PolicyRules {
  const rules: PolicyRules = { allow: [], deny: [], presets: [] };
  for (const [origin, level] of levels) {
    const policy: PolicyConfig | undefined = level.policy;
    if (!policy) continue;
    for (const name of policy.preset ?? []) rules.presets.push({ name, origin });
    for (const pattern of policy.allow ?? []) rules.allow.push({ pattern, origin });
    for (const pattern of policy.deny ?? []) rules.deny.push({ pattern, origin });
  }
  return rules;
}

function summarize(settings: HostSettings): HostSummary {
  const pick = <K extends MergedField>(field: K): MergedFields[K] =>
    settings.entry[field] ?? settings.fallback[field];
  const secrets: Partial<Record<SecretKey, string>> = {};
  for (const name of SECRET_NAMES) {
    const { key, field } = SECRET_KINDS[name];
    const ref = pick(field);
    if (ref) secrets[key] = describeSecret(ref);
  }
  return {
    name: settings.name,
    host: settings.entry.hostName ?? settings.name,
    port: pick('port'),
    user: pick('user'),
    dialect: pick('dialect'),
    jump: pick('proxyJump'),
    description: settings.description,
    tags: settings.tags,
    groups: settings.groups,
    secrets,
    policy: policySummary(settings.policy),
  };
}
