import { z } from 'zod';
import { PRESET_NAMES } from '../policy/presets.js';
import { LOOPBACK_URL_HOSTS } from '../ssh/addresses.js';
import { type AlgorithmCategory, supportedAlgorithms } from '../ssh/algorithms.js';
import { normalizeFingerprint } from '../ssh/known-hosts.js';
import { closest } from '../util/suggest.js';
import { LITERAL_SECRET } from '../util/zod-issues.js';
import { RESULT_CEILING, RESULT_FLOOR } from './limits.js';
import { parseSecretRef, SECRET_REF_SYNTAX, type SecretRef } from './secrets.js';

/**
 * The shape of the config file (`mcp-ssh-session.config.yaml` and friends). Keys are snake_case because
 * network engineers write them; every object is strict so that a typo is an error, not a silent no-op.
 */

/** Host, group and dialect names: what the agent types, so no spaces, `@` or `:`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const NAME_HINT = 'letters, digits, ".", "_" and "-", starting with a letter or digit';

export const HOST_KEY_POLICIES = ['strict', 'accept-new', 'off'] as const;
export type HostKeyPolicy = (typeof HOST_KEY_POLICIES)[number];

/**
 * The policy module's preset names: one list, so a preset added there is accepted here (an unknown name is
 * caught here, with its line). The rules of each preset come from the host's dialect.
 */
export const POLICY_PRESETS = [...PRESET_NAMES] as [string, ...string[]];

export const ALGORITHM_KINDS = ['kex', 'server_host_key', 'cipher', 'hmac', 'compress'] as const;
export type AlgorithmKind = (typeof ALGORITHM_KINDS)[number];

const CATEGORY: Record<AlgorithmKind, AlgorithmCategory> = {
  kex: 'kex',
  server_host_key: 'serverHostKey',
  cipher: 'cipher',
  hmac: 'hmac',
  compress: 'compress',
};

const name = z.string().regex(NAME, NAME_HINT);
const path = z.string().min(1, 'a file path');

const secretRef = z
  .string({ error: `must be ${SECRET_REF_SYNTAX}` })
  .superRefine((value, ctx) => {
    const parsed = parseSecretRef(value);
    if (typeof parsed === 'string') {
      // Never quote the value: it may be the password itself.
      ctx.addIssue({
        code: 'custom',
        message: parsed,
        params: { [LITERAL_SECRET]: !/^(env|file):/.test(value) },
      });
    }
  })
  .transform((value) => parseSecretRef(value) as SecretRef);

/**
 * Checked against what this ssh2 build can negotiate, so a misspelled algorithm fails at load with its line
 * instead of at the first connect. When ssh2's tables cannot be read, names go unchecked here and ssh2
 * still refuses unknown ones when connecting.
 */
function algorithmName(kind: AlgorithmKind) {
  return z.string().superRefine((value, ctx) => {
    const supported = supportedAlgorithms()?.[CATEGORY[kind]].supported;
    if (!supported || supported.includes(value)) return;
    const guess = closest(value, supported);
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a ${kind} algorithm ssh2 knows${guess ? ` (did you mean "${guess}"?)` : ''}; known: ${supported.join(', ')}`,
    });
  });
}

/** ssh2's own format: a list replaces the defaults; an object edits them. One name may stand for a list. */
function algorithmList(kind: AlgorithmKind) {
  const names = z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(algorithmName(kind)));
  return z.union(
    [
      z.array(algorithmName(kind)).min(1, 'an empty list would leave nothing to negotiate'),
      z.strictObject({ append: names.optional(), prepend: names.optional(), remove: names.optional() }),
    ],
    {
      error: `a list of ${kind} algorithms (replaces ssh2's defaults) or { append: [...], prepend: [...], remove: [...] }`,
    },
  );
}

const algorithms = z.strictObject(
  Object.fromEntries(ALGORITHM_KINDS.map((kind) => [kind, algorithmList(kind).optional()])) as {
    [K in AlgorithmKind]: z.ZodOptional<ReturnType<typeof algorithmList>>;
  },
);

const fingerprint = z
  .string()
  .refine(
    (value) => normalizeFingerprint(value) !== undefined,
    'a SHA256 fingerprint as `ssh-keygen -lf` or `ssh-keyscan host | ssh-keygen -lf -` prints it, e.g. SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
  )
  .transform((value) => normalizeFingerprint(value) as string);

const hostKeyObject = z.strictObject({
  policy: z.enum(HOST_KEY_POLICIES).optional(),
  fingerprints: z.array(fingerprint).min(1).optional(),
  known_hosts: path.optional(),
});
/** `host_key: strict` is short for `host_key: { policy: strict }`. */
const hostKey = z.preprocess((v) => (typeof v === 'string' ? { policy: v } : v), hostKeyObject);

const policyPattern = z
  .string()
  .min(1, 'a command pattern such as "show *" or re:<regex>')
  .superRefine((value, ctx) => {
    if (!value.startsWith('re:')) return;
    try {
      new RegExp(value.slice(3), 'i');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });

const remotePathPattern = z
  .string()
  .regex(/^(\/|~\/|~$|\*\*)/, 'an absolute path glob such as "/etc/nginx/**" or "~/**"');

const policy = z.strictObject({
  preset: z
    .union([z.enum(POLICY_PRESETS), z.array(z.enum(POLICY_PRESETS))], {
      error: `a preset name or a list of them; known: ${POLICY_PRESETS.join(', ')}`,
    })
    .transform((value) => (typeof value === 'string' ? [value] : value))
    .optional(),
  allow: z.array(policyPattern).optional(),
  deny: z.array(policyPattern).optional(),
  /** Remote paths the file tools may touch (src/files/policy.ts): globs, `**` crosses folders. */
  paths: z
    .strictObject({
      allow: z.array(remotePathPattern).optional(),
      deny: z.array(remotePathPattern).optional(),
    })
    .optional(),
});

/** What defaults, groups and hosts may all set. */
const connectionFields = {
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().min(1).optional(),
  dialect: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'a dialect name (see list_dialects)')
    .optional(),
  key: path.optional(),
  key_passphrase: secretRef.optional(),
  password: secretRef.optional(),
  enable_password: secretRef.optional(),
  sudo_password: secretRef.optional(),
  jump: z
    .string()
    .regex(/^\S+$/, 'inventory name, ssh-config alias or [user@]host[:port], "a,b" for hops')
    .optional(),
  algorithms: algorithms.optional(),
  host_key: hostKey.optional(),
  policy: policy.optional(),
  /** A folder where every session the server opens to this host is recorded as a transcript. */
  record: path.optional(),
};

const defaultsSchema = z.strictObject(connectionFields);
const groupSchema = z.strictObject({ ...connectionFields, description: z.string().optional() });
const hostSchema = z.strictObject({
  host: z
    .string()
    .regex(/^[^\s@]+$/, 'an address or DNS name, without user@ (write `user:` instead)')
    .optional(),
  ...connectionFields,
  tags: z.array(z.string().min(1)).optional(),
  groups: z.array(name).optional(),
  description: z.string().optional(),
});

/**
 * Who may call the server over HTTP (`serve --http`). A user name goes into the audit log and names the
 * user's own sessions, so it is held to characters that are safe in a log line and in a file name.
 */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
export const USER_NAME_HINT = 'letters, digits, ".", "_", "-" and "@", starting with a letter or digit';

/**
 * The JWT signing algorithms an access token may use: asymmetric only. With HS* the key that verifies is
 * the key that signs, so whoever can read it mints tokens (and a public key mistaken for an HMAC secret is
 * the classic forgery); `none` is no signature at all.
 */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/**
 * https, or http to this machine (a local or test identity provider): tokens and keys must not cross a
 * network in clear.
 */
export function isTrustedWebUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_URL_HOSTS.includes(url.hostname));
}

/** An https URL (http only on loopback), absolute. */
function webUrl(example: string, options: { query?: boolean } = {}) {
  return z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `an absolute URL such as ${example}` });
      return;
    }
    if (!isTrustedWebUrl(url)) {
      ctx.addIssue({
        code: 'custom',
        message: `must start with https:// (http:// only for localhost or 127.0.0.1), e.g. ${example}`,
      });
    }
    if (url.hash || (!options.query && url.search)) {
      ctx.addIssue({
        code: 'custom',
        message: `no ${options.query ? '' : 'query or '}fragment, e.g. ${example}`,
      });
    }
  });
}

const authToken = z.strictObject({
  token: secretRef,
  user: z.string().regex(USER_NAME, `a user name: ${USER_NAME_HINT}`),
  roles: z.array(z.string().regex(NAME, `a role name: ${NAME_HINT}`)).optional(),
});

const claimPath = z
  .string()
  .regex(/^\S+$/, 'a claim name, or a dotted path into the token such as realm_access.roles');

const oauth = z.strictObject({
  /** Compared exactly with the token's `iss`, and where the keys are discovered when jwks_uri is absent. */
  issuer: webUrl('https://idp.example.com/realms/net'),
  jwks_uri: webUrl('https://idp.example.com/realms/net/protocol/openid-connect/certs', {
    query: true,
  }).optional(),
  /** The token's `aud` must hold it; default: the server's resource URL (RFC 8707). */
  audience: z
    .string()
    .min(1, 'the audience the identity provider writes into tokens for this server')
    .optional(),
  user_claim: claimPath.optional(),
  roles_claim: claimPath.optional(),
  required_scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'a scope name such as mcp'))
    .optional(),
  algorithms: z
    .array(
      z.enum(JWT_ALGORITHMS, {
        error: `an asymmetric JWT algorithm: ${JWT_ALGORITHMS.join(', ')} (HS256/384/512 and none are refused: a shared secret or no signature lets others mint tokens)`,
      }),
    )
    .min(1, 'at least one algorithm, or leave the key out for all asymmetric ones')
    .optional(),
});

const auth = z
  .strictObject({
    /** Static bearer tokens: each a reference to the secret (never the value) and the user it stands for. */
    tokens: z
      .preprocess((v) => v ?? undefined, z.array(authToken).optional())
      .superRefine((tokens, ctx) => {
        const seen = new Map<string, number>();
        for (const [i, entry] of (tokens ?? []).entries()) {
          const ref = entry.token.kind === 'env' ? `env:${entry.token.name}` : `file:${entry.token.path}`;
          const first = seen.get(ref);
          if (first === undefined) seen.set(ref, i);
          else
            ctx.addIssue({
              code: 'custom',
              path: [i, 'token'],
              message: `the same reference as auth.tokens[${first}]: each user needs a token of their own`,
            });
        }
      }),
    oauth: oauth.optional(),
  })
  .refine((value) => (value.tokens?.length ?? 0) > 0 || value.oauth !== undefined, {
    message:
      'nobody could connect: give `tokens` (static bearer tokens), `oauth` (an identity provider) or both',
  });

/** `web1:` with nothing under it is a host that takes everything from groups and defaults. */
const orEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((v) => v ?? {}, schema);
/** `hosts:` with every entry commented out is no hosts, not an error. */
const section = <T extends z.ZodType>(schema: T) => z.preprocess((v) => v ?? undefined, schema.optional());

/** A role: what the users holding it may reach and do when the server is shared over HTTP (src/config/roles.ts). */
const roleSchema = z.strictObject({
  description: z.string().optional(),
  /** Targets as execute_on_hosts takes them (names, group:, tag:, dialect:, globs); absent: every host. */
  hosts: z.array(z.string().min(1, 'a host name, group:NAME, tag:NAME, dialect:NAME or a glob')).optional(),
  /** Tool sets or tools (as --tools); absent: what the server offers. */
  tools: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.string().min(1))).optional(),
  /** Hide the tools that change files or configuration. */
  read_only: z.boolean().optional(),
  /** Checked on top of each host's own policy: both must allow a command. */
  policy: policy.optional(),
});

/** `serve --http`: what the HTTP listener accepts (src/server/http/). */
const httpSchema = z.strictObject({
  /** The URL clients use for /mcp, as a proxy in front publishes it: the OAuth resource (audience). */
  public_url: z.url({ error: 'a URL such as https://mcp.example.net/mcp' }).optional(),
  /** Host header names accepted besides the bind address (and localhost names on a loopback bind). */
  allowed_hosts: z.array(z.string().min(1)).optional(),
  /** Origin header values accepted from browsers; a request without Origin is not a browser's. */
  allowed_origins: z.array(z.string().min(1)).optional(),
  /** Bytes in one request body. */
  max_request_bytes: z.number().int().min(1024).optional(),
  /** Requests one user may have running at once; more are answered 429. */
  max_requests_per_user: z.number().int().min(1).optional(),
  /** MCP sessions one user may hold; the longest unused one is closed for a new one. */
  max_sessions_per_user: z.number().int().min(1).optional(),
  /** Seconds running calls get to finish after SIGTERM before sessions are closed under them. */
  shutdown_grace: z.number().min(0).max(600).optional(),
  /** Prefixes this instance's MCP session ids so a proxy can route a session to its instance. */
  instance: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,30}$/, 'lower-case letters, digits and "-", e.g. mcp-a')
    .optional(),
});

export const configSchema = z.strictObject({
  defaults: section(defaultsSchema),
  groups: section(z.record(name, orEmpty(groupSchema))),
  hosts: section(z.record(name, orEmpty(hostSchema))),
  security: section(
    z.strictObject({
      allow_tool_secrets: z.boolean().optional(),
      inventory_only: z.boolean().optional(),
      /** Hide the tools that change files (the server layer's toolsets.ts says which). */
      read_only: z.boolean().optional(),
    }),
  ),
  /**
   * The tool sets (or single tools) the server offers; `tools: all` is short for `[all]`. The names are
   * the server's (src/server/toolsets.ts), checked when the server starts and by check-config.
   */
  tools: section(
    z.preprocess(
      (v) => (typeof v === 'string' ? [v] : v),
      z.array(z.string().min(1, 'a tool set name such as commands or files')),
    ),
  ),
  audit: section(z.strictObject({ path })),
  /** The configure tools (src/server/tools/config.ts): what a commit needs when nobody can be asked. */
  config_changes: section(
    z.strictObject({
      /**
       * Without a client that can ask the user (elicitation), a commit must be a commit confirmed (the
       * device rolls back by itself unless confirmed). Default true; false lets plain commits through.
       */
      require_confirm_minutes: z.boolean().optional(),
      /** Seconds one device step (a line, the diff, the commit) may take. */
      step_timeout: z.number().positive().max(3600).optional(),
    }),
  ),
  /** Who may call the HTTP server (`serve --http`): static bearer tokens, OAuth access tokens (JWT). */
  auth: section(auth),
  dialect_paths: section(z.array(path)),
  http: section(httpSchema),
  /** Rights by role name, for users authenticated over HTTP. */
  roles: section(z.record(name, orEmpty(roleSchema))),
  files: section(
    z.strictObject({
      /** Local folders upload_file reads from and download_file writes to (symlinks resolved first). */
      local_dirs: z.array(path).optional(),
      max_transfer_bytes: z.number().int().positive().optional(),
      max_read_bytes: z.number().int().positive().optional(),
    }),
  ),
  limits: section(
    z.strictObject({
      max_output_bytes: z.number().int().positive().optional(),
      max_result_bytes: z.number().int().min(RESULT_FLOOR).max(RESULT_CEILING).optional(),
      /** Seconds a call waits at most (execute_command's timeout); past it the command goes on in the background. */
      max_wait: z.number().positive().optional(),
      max_spill_bytes: z.number().int().min(0).optional(),
      connect_timeout: z.number().positive().optional(),
      /** All sessions together: finished outputs in memory (past it they go to disk), outputs on disk. */
      max_total_output_memory: z.number().int().min(0).optional(),
      max_total_output_disk: z.number().int().min(0).optional(),
      /** Seconds an output is kept: unread after its command ended, read after it was read. */
      keep_unread_results: z.number().positive().optional(),
      keep_read_results: z.number().positive().optional(),
      /** execute_on_hosts: hosts at once by default, and the most a call may ask for. */
      fanout_concurrency: z.number().int().min(1).optional(),
      max_fanout_concurrency: z.number().int().min(1).optional(),
      /** SSH connections being opened at once, all hosts together. */
      max_connecting: z.number().int().min(1).optional(),
      /** Seconds a session may stay unused before it is closed; 0: never. */
      idle_timeout: z.number().min(0).optional(),
    }),
  ),
});

/** The file as validated: secrets parsed into references, paths still as written. */
export type Config = z.output<typeof configSchema>;
/** The file as written (what a .js/.ts config exports). */
export type ConfigInput = z.input<typeof configSchema>;
export type DefaultsConfig = z.output<typeof defaultsSchema>;
export type GroupConfig = z.output<typeof groupSchema>;
export type HostConfig = z.output<typeof hostSchema>;
export type AlgorithmsConfig = z.output<typeof algorithms>;
export type HostKeyConfig = z.output<typeof hostKeyObject>;
export type PolicyConfig = z.output<typeof policy>;
export type AuthSection = z.output<typeof auth>;
export type RoleConfig = z.output<typeof roleSchema>;
