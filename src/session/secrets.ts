import { registerSecret, type SecretName } from '../util/secrets.js';

/**
 * Where a secret comes from, in one place for every kind (src/util/secrets.ts, SECRET_KINDS) and every
 * caller (login, enable, sudo for commands and for files).
 */

/** A secret the config names for a host: its value, or which reference is not set; undefined: none named. */
export type ConfiguredSecret = { value: string } | { missing: string } | undefined;

/** What a deployment tells about the secrets of a host (see Deployment.secretFor). */
export interface SecretConfig {
  secretFor(host: string | undefined, secret: SecretName): Promise<ConfiguredSecret>;
}

/** Asks the user for a secret (the secret prompt), or says why that is not possible. */
export type AskSecret = (
  secret: SecretName,
  reason: string,
) => Promise<{ value: string } | { unavailable: string }>;

export interface SecretSources {
  /** Given with the call (a tool parameter, a CLI flag). */
  given?: string | undefined;
  /** Typed by the user earlier in the same session. */
  asked?: ReadonlyMap<string, string>;
  /** The config (a deployment): its reference for `host`, read now (env:/file:). */
  config?: SecretConfig | undefined;
  /** The host's own inventory entry: a name whose address or port the call changed lends its secrets to nobody. */
  host?: string | undefined;
  /**
   * When the config names a reference that is not set: `ask` asks the user now, and without an answer the
   * lookup fails with what is missing (a login cannot go on without it); `leave` leaves the secret out (the
   * host's own prompt asks later, or the caller does without).
   */
  whenMissing: 'ask' | 'leave';
  ask?: AskSecret | undefined;
}

/**
 * The one lookup of a secret: the call's own, else one typed earlier in the session, else the config's
 * reference, else (as `whenMissing` says) the user. undefined: none anywhere. Every value found is
 * registered for masking before it is returned.
 */
export async function lookupSecret(name: SecretName, from: SecretSources): Promise<string | undefined> {
  const found = from.given ?? from.asked?.get(name);
  if (found !== undefined) {
    registerSecret(found, name);
    return found;
  }
  const configured = await from.config?.secretFor(from.host, name);
  if (configured === undefined) return undefined;
  if ('value' in configured) return configured.value;
  if (from.whenMissing === 'leave') return undefined;
  const typed = await from.ask?.(name, configured.missing);
  if (typed === undefined || 'unavailable' in typed) {
    const why = typed ? `; asking the user was not possible: ${typed.unavailable}` : '';
    throw new Error(`${configured.missing}${why}`);
  }
  registerSecret(typed.value, name);
  return typed.value;
}
