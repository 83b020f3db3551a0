import type { AuditRecord } from '../audit/audit-log.js';
import type { Dialect } from '../dialect/dialect.js';
import { checkInput } from '../policy/input.js';
import { checkOptionsFor } from '../policy/platform.js';
import { type CompiledPolicy, checkCommand } from '../policy/policy.js';
import { CommandDeniedError, type Deployment } from '../session/manager.js';
import { policyCache } from './deployment.js';
import { ConfigError } from './errors.js';
import { combinePolicies, type PolicyRules } from './inventory.js';
import type { LoadedConfig } from './load.js';
import type { RoleConfig } from './schema.js';
import { selectTargets, TargetError } from './targets.js';

/**
 * What one user of a shared server may do, from the roles their token carries (config `roles:`). Several
 * roles add up: a host is reachable when one role reaches it, a command allowed when one role that reaches
 * the host allows it, a tool offered when one role offers it. The host's own policy applies on top.
 */
export interface Rights {
  user: string;
  /** The roles held that the config defines, in the config's order. */
  roles: string[];
  /** Per role: tool names or sets (undefined: the server's) and read-only; the server narrows its tools by them. */
  tools: { names?: readonly string[]; readOnly: boolean }[];
}

interface CompiledRole {
  name: string;
  /** Inventory names; undefined: every host, in the inventory or not. */
  hosts?: ReadonlySet<string>;
  rules?: PolicyRules;
  /** The role's policy compiled for a dialect, once for every user who holds the role. */
  policy?: (dialect: Dialect) => CompiledPolicy;
}

/**
 * The rights a user's roles give, or why they give none. Without a `roles:` section every authenticated
 * user has the whole server (a small team of equals); with one, a token must carry a role it defines.
 */
export function rightsOf(
  loaded: LoadedConfig | undefined,
  user: string,
  held: readonly string[],
): Rights | string {
  const defined = loaded?.config.roles;
  if (!defined) return { user, roles: [], tools: [{ readOnly: false }] };
  const roles = Object.keys(defined).filter((name) => held.includes(name));
  if (roles.length === 0) {
    const names = Object.keys(defined).join(', ') || 'none';
    return held.length === 0
      ? `user ${user} holds no role; this server's roles: ${names}`
      : `user ${user} holds no role this server defines (held: ${held.slice(0, 10).join(', ')}; defined: ${names})`;
  }
  const configs = roles.map((name) => defined[name] as RoleConfig);
  return {
    user,
    roles,
    tools: configs.map((role) => ({
      ...(role.tools && { names: role.tools }),
      readOnly: role.read_only === true,
    })),
  };
}

/** Each role's hosts and policy rules, resolved once per config (host selectors against the inventory). */
export function compileRoles(loaded: LoadedConfig): Map<string, CompiledRole> {
  const compiled = new Map<string, CompiledRole>();
  const policies = policyCache();
  for (const [name, role] of Object.entries(loaded.config.roles ?? {})) {
    let hosts: Set<string> | undefined;
    if (role.hosts && !role.hosts.includes('*')) {
      try {
        hosts = new Set(selectTargets(role.hosts, loaded.inventory).hosts);
      } catch (error) {
        if (!(error instanceof TargetError)) throw error;
        throw new ConfigError(`invalid config file ${loaded.file}: roles.${name}.hosts: ${error.message}`);
      }
    }
    const rules = role.policy && combinePolicies([[`roles.${name}`, role]]);
    const policy =
      rules && ((dialect: Dialect) => policies(name, rules, dialect, `of role ${name}`, '(role policy)'));
    compiled.set(name, { name, ...(hosts && { hosts }), ...(rules && { rules, policy }) });
  }
  return compiled;
}

/**
 * The deployment one user's sessions are made with: the server's, narrowed to the hosts their roles reach
 * and the commands their roles allow, with their name on every audit record.
 */
export function userDeployment(
  base: Deployment,
  roles: ReadonlyMap<string, CompiledRole>,
  rights: Rights,
): Deployment {
  const held = rights.roles.map((name) => roles.get(name)).filter((r): r is CompiledRole => r !== undefined);
  /** The roles that reach a host known by these inventory names (none: a host outside the inventory). */
  const reaching = (names: readonly string[]) =>
    held.filter((role) => !role.hosts || names.some((name) => role.hosts?.has(name)));
  const roleList = rights.roles.join(', ');
  /**
   * Throws unless one role reaching the host allows it; a role without policy allows everything. Roles
   * are a user's rights, so one role's refusal is not final when another allows. True when a role's
   * policy allowed it (the audit says `allowed`), false when a role without one did.
   */
  const checkRoles = (
    names: string[],
    dialect: Dialect,
    mode: string | undefined,
    decide: (policy: CompiledPolicy, options: ReturnType<typeof checkOptionsFor>) => string | undefined,
    what: string,
  ): boolean => {
    const options = checkOptionsFor(dialect.policy, dialect.abbreviations, mode);
    let refusal: string | undefined;
    for (const role of reaching(names)) {
      if (!role.policy) return false;
      const why = decide(role.policy(dialect), options);
      if (why === undefined) return true;
      refusal ??= `${what} refused by the policy of role ${role.name}, nothing was sent: ${why}`;
    }
    throw new CommandDeniedError(
      refusal ?? `${what} refused: no role of ${rights.user} reaches this host`,
      '(role)',
    );
  };
  const audit = base.audit && {
    write: (record: AuditRecord) =>
      (base.audit as NonNullable<Deployment['audit']>).write({ ...record, caller: rights.user }),
    // The log is the server's: one user's sessions ending does not close it.
    close: async () => {},
  };
  // No roles section: every user may do what the server does; only the audit records say who.
  if (rights.roles.length === 0) return { ...base, ...(audit ? { audit } : {}) };
  return {
    ...base,
    ...(audit ? { audit } : {}),
    reachable: (names) => {
      if (reaching(names).length > 0) return undefined;
      const where = names.length > 0 ? names.join(', ') : 'hosts outside the inventory';
      return `${where} is outside what ${rights.user}'s roles (${roleList}) may reach; list_hosts shows the hosts`;
    },
    checkCommand: (names, command, dialect, mode) => {
      const hostDecision = base.checkCommand(names, command, dialect, mode);
      const checked = checkRoles(
        names,
        dialect,
        mode,
        (policy, options) => {
          const decision = checkCommand(policy, command, options);
          return decision.allowed ? undefined : decision.reason;
        },
        'command',
      );
      return checked ? 'allowed' : hostDecision;
    },
    checksCommands: (names) => base.checksCommands(names) || reaching(names).some((role) => role.rules),
    checkInput: (names, input, dialect, mode) => {
      const result = base.checkInput(names, input, dialect, mode);
      let pending = result.pending;
      const checked = checkRoles(
        names,
        dialect,
        mode,
        (policy, options) => {
          const decision = checkInput(policy, input, options);
          if (!decision.allowed) return decision.reason;
          pending = decision.pending;
          return undefined;
        },
        'input',
      );
      return { policy: checked ? 'allowed' : result.policy, pending };
    },
  };
}
