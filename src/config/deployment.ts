import { AuditLog } from '../audit/audit-log.js';
import type { Dialect } from '../dialect/dialect.js';
import { checkInput } from '../policy/input.js';
import { checkOptionsFor, presetSource } from '../policy/platform.js';
import { type CompiledPolicy, checkCommand, compilePolicy, PolicyConfigError } from '../policy/policy.js';
import { CommandDeniedError, type Deployment } from '../session/manager.js';
import type { HostEntry } from '../ssh/index.js';
import { SECRET_KINDS, type SecretName } from '../util/secrets.js';
import type { HostSettings, MergedFields, PolicyRules } from './inventory.js';
import type { LoadedConfig } from './load.js';
import { missingSecretMessage, resolveSecret, type SecretRef } from './secrets.js';

/**
 * Policies compiled once per name and dialect (presets come from the dialect). One that cannot be used (a
 * preset the dialect lacks) is kept as its error, and every command under it is refused saying why.
 */
export function policyCache() {
  const policies = new Map<string, CompiledPolicy | PolicyConfigError>();
  return (key: string, rules: PolicyRules, dialect: Dialect, whose: string, rule: string): CompiledPolicy => {
    const id = `${key}\u0000${dialect.name}`;
    let policy = policies.get(id);
    if (policy === undefined) {
      try {
        policy = compilePolicy(rules, presetSource(dialect.name, dialect.policy));
      } catch (error) {
        if (!(error instanceof PolicyConfigError)) throw error;
        policy = error;
      }
      policies.set(id, policy);
    }
    if (policy instanceof PolicyConfigError) {
      throw new CommandDeniedError(
        `command refused, nothing was sent: the policy ${whose} cannot be used: ${policy.message}`,
        rule,
      );
    }
    return policy;
  };
}

/** What a loaded config file means to the session layer: inventory, secrets, policy, audit. */
export function deploymentOf(loaded: LoadedConfig): Deployment {
  const inventory = loaded.inventory;
  const compiled = policyCache();
  // The config does not change while the server runs: merge each host's levels once, not per command.
  const merged = new Map<string, HostSettings>();
  /** A host's settings; for no name (a host outside the inventory), the defaults alone. */
  const settingsOf = (name: string | undefined): HostSettings => {
    const key = name ?? '';
    let settings = merged.get(key);
    if (!settings) {
      settings = (name !== undefined && inventory.settings(name)) || inventory.defaults(key);
      merged.set(key, settings);
    }
    return settings;
  };
  const fallback = inventory.defaults();
  const toEntry = (fields: MergedFields, settings: HostSettings): HostEntry => ({
    ...(fields.hostName !== undefined && { hostName: fields.hostName }),
    ...(fields.user !== undefined && { user: fields.user }),
    ...(fields.port !== undefined && { port: fields.port }),
    ...(fields.identityFile !== undefined && { identityFile: fields.identityFile }),
    ...(fields.proxyJump !== undefined && { proxyJump: fields.proxyJump }),
    ...(settings.hostKey && { hostKey: settings.hostKey }),
    ...(settings.algorithms && { algorithms: settings.algorithms }),
  });
  const secretRef = (name: string | undefined, secret: SecretName): SecretRef | undefined => {
    const settings = settingsOf(name);
    const field = SECRET_KINDS[secret].field;
    return settings.entry[field] ?? settings.fallback[field];
  };
  // Compiled once per host name and dialect (presets come from the dialect); null when no level has any
  // rule (nothing is checked). A policy that cannot be used (a preset the dialect lacks) is kept as its error.
  const policyOf = (name: string | undefined, dialect: Dialect): CompiledPolicy | null => {
    const rules = settingsOf(name).policy;
    if (rules.allow.length === 0 && rules.deny.length === 0 && rules.presets.length === 0) return null;
    return compiled(name ?? '', rules, dialect, `for ${name ?? 'every host (defaults)'}`, '(policy config)');
  };

  /** The distinct policies of every name that describes a host (none: the defaults'). */
  const policiesOf = (names: string[], dialect: Dialect) => {
    const seen = new Map<CompiledPolicy, string | undefined>();
    for (const name of names.length > 0 ? names : [undefined]) {
      const policy = policyOf(name, dialect);
      if (policy && !seen.has(policy)) seen.set(policy, name);
    }
    return [...seen].map(([policy, name]) => [name, policy] as const);
  };

  return {
    lookup: (name) => {
      const settings = settingsOf(name);
      return settings.inInventory ? toEntry(settings.entry, settings) : undefined;
    },
    defaults: toEntry(fallback.fallback, fallback),
    inventoryOnly: loaded.security.inventoryOnly,
    allowToolSecrets: loaded.security.allowToolSecrets,
    knows: (name) => inventory.has(name),
    names: () => inventory.names(),
    dialectFor: (name) => {
      const settings = settingsOf(name);
      return settings.entry.dialect ?? settings.fallback.dialect;
    },
    recordFolder: (name) => {
      const settings = settingsOf(name);
      return settings.entry.record ?? settings.fallback.record;
    },
    configures: (name, secret) => secretRef(name, secret) !== undefined,
    secretFor: async (name, secret) => {
      const ref = secretRef(name, secret);
      if (ref === undefined) return undefined;
      const value = await resolveSecret(ref, secret);
      if (value !== undefined) return { value };
      return { missing: missingSecretMessage(ref, `the ${SECRET_KINDS[secret].label} for ${name}`) };
    },
    // `mode`: the mode the session is in, when the caller knows it (a device's shell mode reads input as a
    // shell command line). Every name that describes the host: each policy must allow it (deny wins).
    checkCommand: (names: string[], command: string, dialect: Dialect, mode?: string) => {
      let checked = false;
      for (const [name, policy] of policiesOf(names, dialect)) {
        checked = true;
        const decision = checkCommand(
          policy,
          command,
          checkOptionsFor(dialect.policy, dialect.abbreviations, mode),
        );
        if (decision.allowed) continue;
        throw new CommandDeniedError(
          `command refused by the policy for ${name ?? 'every host (defaults)'}, nothing was sent: ${decision.reason}`,
          decision.rule,
        );
      }
      return checked ? 'allowed' : 'not-checked';
    },
    checksCommands: (names) =>
      (names.length > 0 ? names : [undefined]).some((name) => {
        const rules = settingsOf(name).policy;
        return rules.allow.length > 0 || rules.deny.length > 0 || rules.presets.length > 0;
      }),
    checkInput: (names, input, dialect, mode) => {
      let result: { policy: 'allowed' | 'not-checked'; pending: string } = {
        policy: 'not-checked',
        pending: '',
      };
      for (const [name, policy] of policiesOf(names, dialect)) {
        const decision = checkInput(
          policy,
          input,
          checkOptionsFor(dialect.policy, dialect.abbreviations, mode),
        );
        if (!decision.allowed) {
          throw new CommandDeniedError(
            `input refused by the policy for ${name ?? 'every host (defaults)'}, nothing was typed: ${decision.reason}`,
            decision.rule,
          );
        }
        result = { policy: 'allowed', pending: decision.pending };
      }
      return result;
    },
    ...(loaded.auditPath !== undefined && { audit: new AuditLog(loaded.auditPath) }),
  };
}
