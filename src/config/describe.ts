import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { displayPath } from '../ssh/paths.js';
import { SECRET_KINDS, SECRET_NAMES } from '../util/secrets.js';
import type { AlgorithmSettings, HostSettings, MergedField, MergedFields, PolicyRules } from './inventory.js';
import type { LoadedConfig } from './load.js';
import {
  describeSecret,
  formatSecretRef,
  type SecretRef,
  secretFileWarning,
  secretIsSet,
  secretLength,
} from './secrets.js';

/**
 * What `mcp-ssh-session check-config` prints: every host as the config resolves it, and what looks wrong.
 * Secrets appear only as their references and whether they are set, never as values.
 */

const shown = (file: string) => displayPath(file, homedir());

/** Each secret's merged field, and its key as the file spells it. */
const SECRET_LABELS: [MergedField, string][] = SECRET_NAMES.map((name) => [
  SECRET_KINDS[name].field,
  SECRET_KINDS[name].key,
]);

/** Entry first, then defaults; with where the value came from. */
function field(settings: HostSettings, name: MergedField): { value: unknown; origin: string } | undefined {
  for (const level of [settings.entry, settings.fallback] as MergedFields[]) {
    if (level[name] !== undefined) return { value: level[name], origin: level.origins[name] ?? '' };
  }
  return undefined;
}

function hostKeyText(settings: HostSettings): string {
  const hostKey = settings.hostKey;
  if (!hostKey) return 'accept-new, ~/.ssh/known_hosts (built-in)';
  // Pinned keys are the whole check: the policy and known_hosts no longer apply.
  if (hostKey.fingerprints) return `pinned to ${hostKey.fingerprints.join(', ')} (known_hosts not used)`;
  return `${hostKey.policy ?? 'accept-new'}, ${hostKey.knownHostsFile ? shown(hostKey.knownHostsFile) : '~/.ssh/known_hosts'}`;
}

/** As the file spells them. */
const ALGORITHM_LABELS: Record<string, string> = { serverHostKey: 'server_host_key' };

function algorithmsText(algorithms: AlgorithmSettings): string {
  return Object.entries(algorithms)
    .map(([category, list]) => {
      const kind = ALGORITHM_LABELS[category] ?? category;
      if (Array.isArray(list)) return `${kind} = ${list.join(', ')}`;
      const edits = Object.entries(list ?? {}).map(
        ([op, names]) => `${op} ${(names as string[]).join(', ')}`,
      );
      return `${kind}: ${edits.join('; ')}`;
    })
    .join(' | ');
}

/** One line per kind of rule and origin: `deny [defaults]: "reboot", "halt"`. */
function policyLines(rules: PolicyRules): string[] {
  const lines = new Map<string, string[]>();
  const add = (kind: string, origin: string, text: string) => {
    const key = `${kind} [${origin}]`;
    lines.set(key, [...(lines.get(key) ?? []), text]);
  };
  for (const p of rules.presets) add('preset', p.origin, p.name);
  for (const p of rules.allow) add('allow', p.origin, `"${p.pattern}"`);
  for (const p of rules.deny) add('deny', p.origin, `"${p.pattern}"`);
  if (lines.size === 0) return ['none (every command allowed)'];
  return [...lines].map(([key, texts]) => `${key}: ${texts.join(', ')}`);
}

function describeHost(settings: HostSettings, title: string): string[] {
  const lines = [title];
  const put = (label: string, text: string) => lines.push(`    ${label}: ${text}`);
  const fromConfig = (name: MergedField, label: string, format = (v: unknown) => String(v)) => {
    const found = field(settings, name);
    if (found) put(label, `${format(found.value)} [${found.origin}]`);
  };
  if (settings.inInventory) {
    const address = field(settings, 'hostName');
    put(
      'host',
      address
        ? `${address.value} [${address.origin}]`
        : `${settings.name} [the entry's name; ~/.ssh/config's HostName for it wins if it has one]`,
    );
  }
  fromConfig('port', 'port');
  fromConfig('user', 'user');
  fromConfig('dialect', 'dialect');
  fromConfig('proxyJump', 'jump');
  fromConfig('identityFile', 'key', (v) => shown(String(v)));
  put('host_key', hostKeyText(settings));
  if (settings.algorithms) put('algorithms', algorithmsText(settings.algorithms));
  if (settings.tags.length > 0) put('tags', settings.tags.join(', '));
  if (settings.groups.length > 0) put('groups', settings.groups.join(', '));
  const policy = policyLines(settings.policy);
  if (policy.length === 1) put('policy', policy[0] as string);
  else {
    lines.push('    policy:');
    for (const line of policy) lines.push(`      ${line}`);
  }
  for (const [name, label] of SECRET_LABELS) {
    const found = field(settings, name);
    if (found) put(label, `${describeSecret(found.value as SecretRef)} [${found.origin}]`);
  }
  return lines;
}

/** Every host's settings: the inventory's, then what a host outside it gets. */
function allSettings(loaded: LoadedConfig): HostSettings[] {
  return [
    ...loaded.inventory.names().map((name) => loaded.inventory.settings(name) as HostSettings),
    loaded.inventory.defaults(),
  ];
}

const unsetState = (ref: SecretRef) =>
  ref.kind === 'env' ? 'is not set or empty' : 'cannot be read or is empty';

/** Problems worth fixing that do not stop the server: printed by check-config, logged at startup. */
export function configWarnings(loaded: LoadedConfig): string[] {
  const warnings: string[] = [];
  const missing = new Map<string, { ref: SecretRef; users: string[] }>();
  const keys = new Map<string, string[]>();
  for (const settings of allSettings(loaded)) {
    const who = settings.inInventory ? settings.name : 'defaults';
    if (settings.hostKey?.policy === 'off') {
      warnings.push(
        settings.inInventory
          ? `${who}: host_key policy off: the host's key is not checked (anyone on the path can pose as it)`
          : 'defaults: host_key policy off applies to every host not in `hosts`: their keys are not checked',
      );
    }
    for (const [name] of SECRET_LABELS) {
      const ref = field(settings, name)?.value as SecretRef | undefined;
      if (!ref || secretIsSet(ref)) continue;
      const key = formatSecretRef(ref);
      const entry = missing.get(key) ?? { ref, users: [] };
      if (!entry.users.includes(who)) entry.users.push(who);
      missing.set(key, entry);
    }
    const key = field(settings, 'identityFile')?.value as string | undefined;
    if (key && !existsSync(key)) keys.set(key, [...(keys.get(key) ?? []), who]);
  }
  for (const [text, { ref, users }] of missing) {
    warnings.push(`${text} ${unsetState(ref)} (used by ${users.join(', ')})`);
  }
  const files = new Set<string>();
  for (const { ref } of missing.values()) if (ref.kind === 'file') files.add(ref.path);
  for (const settings of allSettings(loaded)) {
    for (const [name] of SECRET_LABELS) {
      const ref = field(settings, name)?.value as SecretRef | undefined;
      if (ref?.kind !== 'file' || files.has(ref.path)) continue;
      files.add(ref.path);
      const warning = secretFileWarning(ref);
      if (warning) warnings.push(warning);
    }
  }
  for (const [key, users] of keys)
    warnings.push(`key ${shown(key)} does not exist (used by ${users.join(', ')})`);
  // A secret this short cannot be masked in output without wrecking it: it is shown as typed.
  const short = new Set<string>();
  for (const settings of allSettings(loaded)) {
    for (const [name] of SECRET_LABELS) {
      const ref = field(settings, name)?.value as SecretRef | undefined;
      if (!ref || short.has(formatSecretRef(ref))) continue;
      const length = secretLength(ref);
      if (length === 0 || length >= 3) continue;
      short.add(formatSecretRef(ref));
      warnings.push(
        `${formatSecretRef(ref)} holds a secret shorter than 3 characters: it cannot be masked in output, and is refused for logging in; use a longer one`,
      );
    }
  }
  for (const dir of loaded.dialectPaths) {
    if (!existsSync(dir)) warnings.push(`dialect folder ${shown(dir)} does not exist`);
  }
  for (const [i, { token, user }] of (loaded.auth?.tokens ?? []).entries()) {
    if (secretIsSet(token)) continue;
    warnings.push(
      `auth.tokens[${i}]: ${formatSecretRef(token)} ${unsetState(token)} (the token of user ${user}): serve --http does not start without it`,
    );
  }
  if (loaded.security.inventoryOnly && loaded.inventory.names().length === 0) {
    warnings.push('security.inventory_only is true but `hosts` is empty: no host can be reached');
  }
  if (loaded.tools.readOnly) {
    // Read-only hides the file writers; commands are what the command policy lets through.
    const open = allSettings(loaded)
      .filter((s) => !(loaded.security.inventoryOnly && !s.inInventory))
      .filter((s) => s.policy.presets.length + s.policy.allow.length === 0)
      .map((s) => (s.inInventory ? s.name : 'hosts not in `hosts` (defaults)'));
    if (open.length > 0) {
      warnings.push(
        `security.read_only hides the tools that write files, but commands are not limited on ${open.join(', ')}: give them policy.preset read-only (or an allow list) to make commands read-only too`,
      );
    }
  }
  return warnings;
}

/** The text check-config prints. */
export function describeConfig(loaded: LoadedConfig): string {
  const { security, limits } = loaded;
  const lines = [`Config file: ${loaded.file}`, ''];
  lines.push(
    `Security: secrets as tool parameters ${security.allowToolSecrets ? 'allowed' : 'refused (allow_tool_secrets: false)'}; ${
      security.inventoryOnly
        ? 'only hosts in `hosts` can be reached (inventory_only: true)'
        : 'any host can be reached'
    }`,
  );
  lines.push(
    `Tools: ${loaded.tools.names ? loaded.tools.names.join(', ') : 'the default sets'}${loaded.tools.readOnly ? '; read-only (the tools that write files are hidden)' : ''}`,
  );
  const changes = loaded.configChanges;
  lines.push(
    `Configuration changes: without a client that asks the user, commits ${changes.requireConfirmMinutes === false ? 'may be plain commits (require_confirm_minutes: false)' : 'must give confirm_minutes'}${changes.stepTimeoutMs !== undefined ? `; step_timeout ${changes.stepTimeoutMs / 1000}s` : ''}`,
  );
  lines.push(`Audit log: ${loaded.auditPath ? shown(loaded.auditPath) : 'off (no `audit` section)'}`);
  if (loaded.dialectPaths.length > 0)
    lines.push(`Dialect folders: ${loaded.dialectPaths.map(shown).join(', ')}`);
  const limitParts = [
    limits.maxOutputBytes !== undefined ? `max_output_bytes ${limits.maxOutputBytes}` : '',
    limits.maxResultBytes !== undefined ? `max_result_bytes ${limits.maxResultBytes}` : '',
    limits.maxWaitMs !== undefined ? `max_wait ${limits.maxWaitMs / 1000}s` : '',
    limits.maxSpillBytes !== undefined ? `max_spill_bytes ${limits.maxSpillBytes}` : '',
    limits.connectTimeoutMs !== undefined ? `connect_timeout ${limits.connectTimeoutMs / 1000}s` : '',
    limits.fanoutConcurrency !== undefined ? `fanout_concurrency ${limits.fanoutConcurrency}` : '',
    limits.maxFanoutConcurrency !== undefined ? `max_fanout_concurrency ${limits.maxFanoutConcurrency}` : '',
    limits.maxConnecting !== undefined ? `max_connecting ${limits.maxConnecting}` : '',
    limits.idleTimeoutMs !== undefined ? `idle_timeout ${limits.idleTimeoutMs / 1000}s` : '',
  ].filter(Boolean);
  if (limitParts.length > 0) lines.push(`Limits: ${limitParts.join(', ')}`);

  const names = loaded.inventory.names();
  lines.push('', `Hosts (${names.length}):`);
  if (names.length === 0) lines.push('  none');
  for (const name of names) {
    const settings = loaded.inventory.settings(name) as HostSettings;
    lines.push(
      ...describeHost(settings, `  ${name}${settings.description ? ` - ${settings.description}` : ''}`),
    );
  }
  lines.push('', ...describeHost(loaded.inventory.defaults(), 'Any other host (defaults):'));

  const warnings = configWarnings(loaded);
  lines.push('', warnings.length > 0 ? `Warnings (${warnings.length}):` : 'Warnings: none');
  for (const warning of warnings) lines.push(`  - ${warning}`);
  return lines.join('\n');
}
