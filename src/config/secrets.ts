import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { displayPath } from '../ssh/paths.js';
import { log } from '../util/log.js';
import { registerSecret } from '../util/secrets.js';
import { readSmallFile, readSmallFileSync, SmallFileError } from '../util/small-file.js';

/** A secret is a password or passphrase: a file far larger than one is not one (and is not read whole). */
export const MAX_SECRET_BYTES = 64 * 1024;

/**
 * Where a secret lives. The config file only ever holds a reference, never the value: config files get
 * copied, shared and committed. A `file:` path is absolute once the config is loaded.
 */
export type SecretRef = { kind: 'env'; name: string } | { kind: 'file'; path: string };

export const SECRET_REF_SYNTAX =
  'env:NAME (an environment variable) or file:PATH (a file holding only the secret)';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `env:NAME` / `file:PATH` to a reference; anything else to what is wrong with it (never quoting it). */
export function parseSecretRef(text: string): SecretRef | string {
  if (text.startsWith('env:')) {
    const name = text.slice(4).trim();
    if (ENV_NAME.test(name)) return { kind: 'env', name };
    return 'env: needs a variable name of letters, digits and "_", e.g. env:CORE_SW1_PASSWORD';
  }
  if (text.startsWith('file:')) {
    const path = text.slice(5).trim();
    if (path) return { kind: 'file', path };
    return 'file: needs a path, e.g. file:~/.secrets/core-sw1';
  }
  return `a secret written in the config file is refused: put it in an environment variable and write env:NAME, or in a file only you can read and write file:PATH`;
}

/** `env:NAME` or `file:~/x`, as the user would write it. */
export function formatSecretRef(ref: SecretRef): string {
  return ref.kind === 'env' ? `env:${ref.name}` : `file:${displayPath(ref.path, homedir())}`;
}

/** One trailing newline is what `echo secret > file` leaves; it is not part of the secret. */
function trimTrailingNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

/**
 * The secret's value, read now (not at load: a variable exported or a file written after the server
 * started is seen). undefined when the variable is unset or empty or the file unreadable or empty. The value
 * is registered for masking before it is returned.
 */
/** The value a reference points at; `name` (password, enable, ...) is what a transcript calls it. */
export async function resolveSecret(ref: SecretRef, name?: string): Promise<string | undefined> {
  let value: string | undefined;
  if (ref.kind === 'env') {
    value = process.env[ref.name];
  } else {
    try {
      value = trimTrailingNewline(
        (await readSmallFile(ref.path, MAX_SECRET_BYTES, 'a secret')).toString('utf8'),
      );
    } catch (error) {
      // Said here, as the caller only learns the file is unusable; never the content, only the reason.
      if (error instanceof SmallFileError)
        log.warn(`secret file ${displayPath(ref.path, homedir())}: ${error.message}`);
      value = undefined;
    }
  }
  if (!value) return undefined;
  registerSecret(value, name);
  return value;
}

/** Whether resolveSecret would find a value, without reading (or exposing) it. */
export function secretIsSet(ref: SecretRef): boolean {
  if (ref.kind === 'env') return Boolean(process.env[ref.name]);
  try {
    accessSync(ref.path, constants.R_OK);
    const stat = statSync(ref.path);
    return stat.isFile() && stat.size > 0 && stat.size <= MAX_SECRET_BYTES;
  } catch {
    return false;
  }
}

/** The length of the secret a reference holds now (0 when unset), read without keeping the value. */
export function secretLength(ref: SecretRef): number {
  if (ref.kind === 'env') return process.env[ref.name]?.length ?? 0;
  try {
    return trimTrailingNewline(readSmallFileSync(ref.path, MAX_SECRET_BYTES, 'a secret').toString('utf8'))
      .length;
  } catch {
    return 0;
  }
}

/** `env:CORE_PASS (set)` / `file:~/.secrets/x (missing)`: safe to print, never the value. */
export function describeSecret(ref: SecretRef): string {
  return `${formatSecretRef(ref)} (${secretIsSet(ref) ? 'set' : 'missing'})`;
}

/** The error for a secret that is needed now and is not there; `what` is e.g. "password for core-sw1". */
export function missingSecretMessage(ref: SecretRef, what: string): string {
  if (ref.kind === 'env') {
    return `${what}: environment variable ${ref.name} is not set or empty (the config says env:${ref.name}); set it in the environment the MCP client starts the server with`;
  }
  const shown = displayPath(ref.path, homedir());
  return `${what}: file ${shown} cannot be read or is empty (the config says file:${shown}); write the secret into it, readable only by you (chmod 600)`;
}

/** A warning when a secret file can be read by group or others; undefined when it is fine or absent. */
export function secretFileWarning(ref: SecretRef): string | undefined {
  if (ref.kind !== 'file' || process.platform === 'win32') return undefined;
  try {
    const mode = statSync(ref.path).mode & 0o777;
    if ((mode & 0o077) === 0) return undefined;
    const shown = displayPath(ref.path, homedir());
    const who = mode & 0o007 ? 'other users' : 'its group';
    return `secret file ${shown} is open to ${who} (mode ${mode.toString(8).padStart(3, '0')}); run: chmod 600 ${shown}`;
  } catch {
    return undefined;
  }
}
