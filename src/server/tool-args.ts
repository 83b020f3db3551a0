import type { RunRequest, SessionManager } from '../session/manager.js';
import type { TargetRequest } from '../ssh/index.js';
import {
  registerSecret,
  SECRET_KEYS,
  SECRET_KINDS,
  SECRET_NAMES,
  type SecretKey,
  type SecretName,
} from '../util/secrets.js';
import type { SecretPrompter } from './secret-prompt.js';

/** What several tool groups make of their arguments: a target, the secret rules, cancellation. */

/** Every secret among a call's parameters, remembered under its kind's name so it is masked everywhere. */
export function registerToolSecrets(args: Partial<Record<SecretKey, unknown>>): void {
  for (const name of SECRET_NAMES) {
    const value = args[SECRET_KINDS[name].key];
    if (typeof value === 'string') registerSecret(value, name);
  }
}

/** Turn tool parameters into a target request, remembering secrets so they are masked everywhere. */
export function targetOf(args: {
  host: string;
  username?: string;
  port?: number;
  password?: string;
  key_filename?: string;
  key_passphrase?: string;
}): TargetRequest {
  registerToolSecrets(args);
  return {
    host: args.host,
    username: args.username,
    port: args.port,
    password: args.password,
    keyFilename: args.key_filename,
    keyPassphrase: args.key_passphrase,
  };
}

/** The config's security.allow_tool_secrets: false refuses secrets given as tool parameters. */
export function refuseToolSecrets(manager: SessionManager, args: Partial<Record<SecretKey, unknown>>): void {
  if (manager.deployment?.allowToolSecrets !== false) return;
  const given = SECRET_KEYS.filter((p) => args[p] !== undefined);
  if (given.length > 0) {
    throw new Error(
      `this server takes no secrets as tool parameters (security.allow_tool_secrets is false in its config file): leave out ${given.join(', ')}; the config file provides them, or the user is asked`,
    );
  }
}

/**
 * A client gives up on a long request when its own timeout passes and says so in the cancellation's
 * reason (the MCP SDK: "Request timed out"): the command then goes on in the background, with its id in
 * the history. Any other cancellation is the user stopping it: Ctrl+C.
 */
export function cancellation(signal: AbortSignal): Pick<RunRequest, 'signal' | 'stopWaiting'> {
  const interrupt = new AbortController();
  const onAbort = () => {
    if (!/time(d)?[ -]?out/i.test(String(signal.reason ?? ''))) interrupt.abort(signal.reason);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return { signal: interrupt.signal, stopWaiting: signal };
}

/**
 * Asks the user through the secret page, for as long as a call may wait (max_wait): past it the client
 * gives up on the call, and a secret entered later would reach nobody. The call's own shorter timeout does
 * not cut it short: a person needs time to type.
 */
export function secretAsker(prompter: SecretPrompter, host: string, maxWaitMs: number, signal?: AbortSignal) {
  return (secret: SecretName, reason: string) =>
    prompter.ask({ host, secret, reason, timeoutMs: maxWaitMs, signal });
}

export function noSession(hostName: string): Error {
  return new Error(
    `No open session for "${hostName}". list_sessions shows the open ones (as user@host:port).`,
  );
}
