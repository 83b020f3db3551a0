import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import { parseYamlSource } from '../util/yaml-source.js';
import { formatFieldPath, formatIssues, type Locator } from '../util/zod-issues.js';
import { ConfigError, ConfigFieldError } from './errors.js';
import { Inventory, resolveConfigPath } from './inventory.js';
import type { ServerLimits } from './limits.js';
import { type AuthSection, type Config, configSchema, JWT_ALGORITHMS, type JwtAlgorithm } from './schema.js';
import type { SecretRef } from './secrets.js';

export const MODULE_NAME = 'mcp-ssh-session';

/** Searched in each folder, in this order; the first file found is the config. */
export const SEARCH_PLACES = [
  'package.json',
  `.${MODULE_NAME}rc`,
  `.${MODULE_NAME}rc.yaml`,
  `.${MODULE_NAME}rc.yml`,
  `.${MODULE_NAME}rc.json`,
  `${MODULE_NAME}.config.yaml`,
  `${MODULE_NAME}.config.yml`,
  `${MODULE_NAME}.config.json`,
  `${MODULE_NAME}.config.js`,
  `${MODULE_NAME}.config.mjs`,
  `${MODULE_NAME}.config.cjs`,
  `${MODULE_NAME}.config.ts`,
];

export interface LoadOptions {
  /** `--config`: this file and no search; it must exist. */
  explicitPath?: string;
  /** Where the search starts (default: the working directory). */
  searchFrom?: string;
  /**
   * `global` (default): searchFrom, then each parent folder up to the home directory, then the user's
   * config folder (~/.config/mcp-ssh-session/config.yaml and friends). `none`: searchFrom only.
   */
  searchStrategy?: 'global' | 'none';
}

/** The `auth` section, defaults filled in: who may call the HTTP server. */
export interface AuthConfig {
  /** Static bearer tokens, by reference (a `file:` path absolute); [] when none. */
  tokens: { token: SecretRef; user: string; roles: string[] }[];
  oauth?: OAuthConfig;
}

/** OAuth 2.1 access tokens (JWT) from one identity provider. */
export interface OAuthConfig {
  issuer: string;
  /** Undefined: discovered from the issuer's metadata. */
  jwksUri?: string;
  /** Undefined: the server's resource URL. */
  audience?: string;
  userClaim: string;
  rolesClaim: string;
  requiredScopes: string[];
  algorithms: JwtAlgorithm[];
}

export interface LoadedConfig {
  /** Absolute path of the file read. */
  file: string;
  /** Its folder: relative paths in the file start here. */
  dir: string;
  /** The file as validated (secrets as references, paths as written). */
  config: Config;
  inventory: Inventory;
  security: { allowToolSecrets: boolean; inventoryOnly: boolean };
  /** Which tools the server offers: the `tools` key as written (undefined when absent), security.read_only. */
  tools: { names?: string[]; readOnly: boolean };
  /** Absolute; undefined when the file has no `audit` section (no audit log). */
  auditPath?: string;
  /** Absolute, in the order written (later folders win, as in MCP_SSH_DIALECT_PATH). */
  dialectPaths: string[];
  /** Only what the file sets; the CLI layers flags and environment over it. */
  limits: Partial<ServerLimits>;
  /** The `config_changes` section: {} when absent (the configure tools' defaults apply). */
  configChanges: { requireConfirmMinutes?: boolean; stepTimeoutMs?: number };
  /** The `files` section, local folders made absolute (against the file's folder); {} when absent. */
  files: { localDirs?: string[]; maxTransferBytes?: number; maxReadBytes?: number };
  /** The `auth` section; undefined when absent (no HTTP authentication configured). */
  auth?: AuthConfig;
}

/** `$import` is cosmiconfig's, not ours: files would merge behind the schema's back and break locations. */
function refuseImport(data: unknown, file: string): void {
  if (data && typeof data === 'object' && Object.hasOwn(data, '$import')) {
    throw new ConfigError(
      `${file}: $import is not supported; share settings through \`groups\` and \`defaults\` instead`,
    );
  }
}

/** Node's JSON.parse error gives an offset; make it file:line:col like every other error here. */
function jsonSyntaxError(text: string, file: string, error: Error): ConfigError {
  const offset = /position (\d+)/.exec(error.message)?.[1];
  if (offset === undefined) return new ConfigError(`${file}: ${error.message}`);
  const before = text.slice(0, Number(offset)).split('\n');
  const line = before.length;
  const col = (before[before.length - 1]?.length ?? 0) + 1;
  return new ConfigError(
    `${file}:${line}:${col}: ${error.message.replace(/ in JSON at position \d+.*$/, '')}`,
  );
}

const TS_NEEDS = (file: string) =>
  `${file}: this Node.js (${process.version}) cannot load a TypeScript config: it needs Node.js 22.18 or later (built-in type stripping) or the \`typescript\` package installed next to mcp-ssh-session (npm install typescript). Or write the same object as ${file.replace(/\.ts$/, '.mjs')} (export default { ... }) or as YAML.`;

export interface TsLoaderDeps {
  importModule?: (url: string) => Promise<{ default?: unknown }>;
  hasTypescript?: () => boolean;
}

function typescriptInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('typescript');
    return true;
  } catch {
    return false;
  }
}

/**
 * A .ts config, without making `typescript` (23 MB) a dependency: Node.js 22.18+ strips types itself, so
 * the file is simply imported (only erasable syntax: no enums, no namespaces). An older Node.js throws
 * ERR_UNKNOWN_FILE_EXTENSION; then cosmiconfig's loader is used if `typescript` happens to be installed.
 */
export function typescriptLoader(deps: TsLoaderDeps = {}): Loader {
  const importModule = deps.importModule ?? ((url: string) => import(url));
  const hasTypescript = deps.hasTypescript ?? typescriptInstalled;
  return async (filepath, content) => {
    try {
      return (await importModule(pathToFileURL(filepath).href)).default;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    }
    if (!hasTypescript()) throw new ConfigError(TS_NEEDS(filepath));
    return defaultLoaders['.ts'](filepath, content);
  };
}

/** A cosmiconfig explorer whose YAML and JSON loaders remember where each field is, for error messages. */
function explorer(options: LoadOptions, locators: Map<string, Locator>) {
  const yaml: Loader = (filepath, content) => {
    const source = parseYamlSource(content, filepath);
    if (source.syntaxError) throw new ConfigError(source.syntaxError);
    refuseImport(source.data, filepath);
    locators.set(filepath, source);
    return source.data ?? undefined;
  };
  const json: Loader = (filepath, content) => {
    let data: unknown;
    try {
      data = JSON.parse(content);
    } catch (error) {
      throw jsonSyntaxError(content, filepath, error as Error);
    }
    const isPackage = path.basename(filepath) === 'package.json';
    const own = isPackage ? (data as Record<string, unknown> | null)?.[MODULE_NAME] : data;
    refuseImport(own, filepath);
    // JSON is YAML: the YAML parser knows the positions JSON.parse does not report.
    locators.set(filepath, parseYamlSource(content, filepath, isPackage ? [MODULE_NAME] : []));
    return data;
  };
  const js =
    (load: Loader): Loader =>
    async (filepath, content) => {
      const data = await load(filepath, content);
      refuseImport(data, filepath);
      return data;
    };
  return cosmiconfig(MODULE_NAME, {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: options.searchStrategy ?? 'global',
    cache: false,
    loaders: {
      '.yaml': yaml,
      '.yml': yaml,
      noExt: yaml,
      // --config with any other extension: read as YAML (which also reads JSON).
      default: yaml,
      '.json': json,
      '.js': js(defaultLoaders['.js']),
      '.mjs': js(defaultLoaders['.mjs']),
      '.cjs': js(defaultLoaders['.cjs']),
      '.ts': js(typescriptLoader()),
    },
  });
}

async function mustExist(explicitPath: string): Promise<string> {
  const file = path.resolve(explicitPath);
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `config file ${file} does not exist (given with --config); check the path, or leave --config out to search for ${MODULE_NAME}.config.yaml`
        : `config file ${file} cannot be read: ${(error as Error).message}`,
    );
  }
  if (!isFile) throw new ConfigError(`config file ${file} is not a file (given with --config)`);
  return file;
}

/**
 * Find and load the config file. undefined when there is none (the server works without one). Throws
 * ConfigError naming the file, the line:column where the format allows, the field and what it expects.
 */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig | undefined> {
  const locators = new Map<string, Locator>();
  const finder = explorer(options, locators);
  let result: Awaited<ReturnType<typeof finder.search>>;
  let file: string | undefined;
  try {
    if (options.explicitPath !== undefined) {
      file = await mustExist(options.explicitPath);
      result = await finder.load(file);
      if (result === null) {
        throw new ConfigError(`${file}: has no "${MODULE_NAME}" key (given with --config)`);
      }
    } else {
      result = await finder.search(options.searchFrom);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const where = (error as { filepath?: string }).filepath ?? file ?? 'config file';
    throw new ConfigError(`${where}: cannot be loaded: ${(error as Error).message}`);
  }
  if (!result) return undefined;
  return validateConfig(result.isEmpty ? {} : result.config, result.filepath, locators.get(result.filepath));
}

/** The `auth` section as the HTTP server uses it: defaults filled in, `file:` tokens made absolute. */
function authConfig(section: AuthSection, dir: string): AuthConfig {
  const { tokens = [], oauth } = section;
  return {
    tokens: tokens.map(({ token, user, roles = [] }) => ({
      token: token.kind === 'file' ? { kind: 'file', path: resolveConfigPath(token.path, dir) } : token,
      user,
      roles,
    })),
    ...(oauth && {
      oauth: {
        issuer: oauth.issuer,
        ...(oauth.jwks_uri !== undefined && { jwksUri: oauth.jwks_uri }),
        ...(oauth.audience !== undefined && { audience: oauth.audience }),
        userClaim: oauth.user_claim ?? 'sub',
        rolesClaim: oauth.roles_claim ?? 'roles',
        requiredScopes: oauth.required_scopes ?? [],
        algorithms: oauth.algorithms ?? [...JWT_ALGORITHMS],
      },
    }),
  };
}

/** Check the schema and what only the whole file shows, then resolve paths against the file's folder. */
export function validateConfig(data: unknown, file: string, locator?: Locator): LoadedConfig {
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const lines = formatIssues(parsed.error.issues, configSchema, file, locator);
    throw new ConfigError(`invalid config file ${file}:\n${lines.map((line) => `  ${line}`).join('\n')}`);
  }
  const config = parsed.data;
  const dir = path.dirname(file);
  let inventory: Inventory;
  try {
    inventory = new Inventory(config, dir);
  } catch (error) {
    if (!(error instanceof ConfigFieldError)) throw error;
    const where = locator ? locator.locate(error.path) : file;
    throw new ConfigError(
      `invalid config file ${file}:\n  ${where}: ${formatFieldPath(error.path)}: ${error.message}`,
    );
  }
  const limits: Partial<ServerLimits> = {};
  if (config.limits?.max_output_bytes !== undefined) limits.maxOutputBytes = config.limits.max_output_bytes;
  if (config.limits?.max_result_bytes !== undefined) limits.maxResultBytes = config.limits.max_result_bytes;
  if (config.limits?.max_wait !== undefined) limits.maxWaitMs = config.limits.max_wait * 1000;
  if (config.limits?.max_spill_bytes !== undefined) limits.maxSpillBytes = config.limits.max_spill_bytes;
  if (config.limits?.connect_timeout !== undefined)
    limits.connectTimeoutMs = config.limits.connect_timeout * 1000;
  const l = config.limits;
  if (l?.max_total_output_memory !== undefined) limits.maxTotalOutputMemory = l.max_total_output_memory;
  if (l?.max_total_output_disk !== undefined) limits.maxTotalOutputDisk = l.max_total_output_disk;
  if (l?.keep_unread_results !== undefined) limits.keepUnreadMs = l.keep_unread_results * 1000;
  if (l?.keep_read_results !== undefined) limits.keepReadMs = l.keep_read_results * 1000;
  if (l?.fanout_concurrency !== undefined) limits.fanoutConcurrency = l.fanout_concurrency;
  if (l?.max_fanout_concurrency !== undefined) limits.maxFanoutConcurrency = l.max_fanout_concurrency;
  if (l?.max_connecting !== undefined) limits.maxConnecting = l.max_connecting;
  if (l?.idle_timeout !== undefined) limits.idleTimeoutMs = l.idle_timeout * 1000;
  return {
    file,
    dir,
    config,
    inventory,
    security: {
      allowToolSecrets: config.security?.allow_tool_secrets ?? true,
      inventoryOnly: config.security?.inventory_only ?? false,
    },
    tools: {
      ...(config.tools && { names: config.tools }),
      readOnly: config.security?.read_only ?? false,
    },
    auditPath: config.audit ? resolveConfigPath(config.audit.path, dir) : undefined,
    dialectPaths: (config.dialect_paths ?? []).map((dialectDir) => resolveConfigPath(dialectDir, dir)),
    limits,
    configChanges: {
      ...(config.config_changes?.require_confirm_minutes !== undefined && {
        requireConfirmMinutes: config.config_changes.require_confirm_minutes,
      }),
      ...(config.config_changes?.step_timeout !== undefined && {
        stepTimeoutMs: config.config_changes.step_timeout * 1000,
      }),
    },
    files: {
      ...(config.files?.local_dirs && {
        localDirs: config.files.local_dirs.map((local) => resolveConfigPath(local, dir)),
      }),
      ...(config.files?.max_transfer_bytes !== undefined && {
        maxTransferBytes: config.files.max_transfer_bytes,
      }),
      ...(config.files?.max_read_bytes !== undefined && { maxReadBytes: config.files.max_read_bytes }),
    },
    ...(config.auth && { auth: authConfig(config.auth, dir) }),
  };
}
