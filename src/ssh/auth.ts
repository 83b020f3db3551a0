import ssh2, {
  type AnyAuthMethod,
  type AuthenticationType,
  type NextAuthHandler,
  type ParsedKey,
} from 'ssh2';
import { registerSecret } from '../util/secrets.js';
import { readSmallFile, SmallFileError } from '../util/small-file.js';
import { SshError } from './errors.js';
import { displayPath } from './paths.js';
import { type Hop, MAX_KEY_BYTES } from './ssh-config.js';

export interface Identity {
  /** For messages: `~/.ssh/id_ed25519`. */
  label: string;
  key: ParsedKey;
}

export interface LoadedIdentities {
  keys: Identity[];
  /** Why a file was not used ("~/.ssh/id_rsa: encrypted, no passphrase given"), for the failure message. */
  notes: string[];
  /** Labels of encrypted keys no passphrase could open: the hint asks for key_passphrase. */
  locked: string[];
}

export interface AuthSecrets {
  password?: string;
  keyPassphrase?: string;
}

/**
 * Reads and parses the identity files. An encrypted key is opened with keyPassphrase, else with the
 * password (paramiko does the same: people reuse them); one that neither opens is skipped and noted.
 */
export async function loadIdentities(
  files: string[],
  secrets: AuthSecrets,
  home: string,
): Promise<LoadedIdentities> {
  const out: LoadedIdentities = { keys: [], notes: [], locked: [] };
  const passphrases = [secrets.keyPassphrase, secrets.password].filter((p): p is string => !!p);
  for (const file of files) {
    const label = displayPath(file, home);
    let data: Buffer;
    try {
      data = await readSmallFile(file, MAX_KEY_BYTES, 'a private key');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        err instanceof SmallFileError ? err.message : code === 'ENOENT' ? 'not found' : 'unreadable';
      out.notes.push(`${label}: ${why}`);
      continue;
    }
    let parsed = first(ssh2.utils.parseKey(data));
    if (parsed instanceof Error && /no passphrase given/i.test(parsed.message)) {
      for (const passphrase of passphrases) {
        parsed = first(ssh2.utils.parseKey(data, passphrase));
        if (!(parsed instanceof Error)) break;
      }
      if (parsed instanceof Error) {
        out.locked.push(label);
        out.notes.push(
          `${label}: encrypted, ${passphrases.length ? 'passphrase did not open it' : 'no passphrase given'}`,
        );
        continue;
      }
    }
    if (parsed instanceof Error || !parsed.isPrivateKey()) {
      out.notes.push(`${label}: not a private key ssh2 can use`);
      continue;
    }
    out.keys.push({ label, key: parsed });
  }
  return out;
}

/** parseKey returns an array for multi-key files; OpenSSH files hold one key. */
function first(parsed: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  return Array.isArray(parsed) ? (parsed[0] ?? new Error('empty key file')) : parsed;
}

interface Attempt {
  /** The server's name for the method, to skip methods it does not offer. */
  method: AuthenticationType;
  label: string;
  make: () => AnyAuthMethod;
}

export interface AuthPlan {
  handler: (methodsLeft: AuthenticationType[] | null, partial: boolean | null, next: NextAuthHandler) => void;
  /** True once every method was tried: the next 'error' from ssh2 is the authentication failure. */
  exhausted(): boolean;
  /** The SshError to report when authentication failed. */
  failure(): SshError;
}

/**
 * ssh2 authHandler trying, in order: none (to learn what the server accepts), ssh-agent, each key,
 * password, keyboard-interactive. It remembers what it tried for the failure message.
 */
export function planAuth(
  hop: Hop,
  identities: LoadedIdentities,
  secrets: AuthSecrets,
  agentSocket: string | undefined,
  /** A ProxyJump hop: the caller's password and passphrase are for the target, not for it. */
  jump = false,
): AuthPlan {
  registerSecret(secrets.password, 'password');
  registerSecret(secrets.keyPassphrase, 'key_passphrase');
  const username = hop.username;
  const password = secrets.password;
  const attempts: Attempt[] = [];
  if (agentSocket && !hop.identitiesOnly) {
    attempts.push({
      method: 'publickey',
      label: 'publickey (ssh-agent)',
      make: () => ({ type: 'agent', username, agent: agentSocket }),
    });
  }
  for (const { label, key } of identities.keys) {
    attempts.push({
      method: 'publickey',
      label: `publickey (${label})`,
      make: () => ({ type: 'publickey', username, key }),
    });
  }
  if (password !== undefined) {
    attempts.push({
      method: 'password',
      label: 'password',
      make: () => ({ type: 'password', username, password }),
    });
    attempts.push({
      method: 'keyboard-interactive',
      label: 'keyboard-interactive',
      make: () => ({ type: 'keyboard-interactive', username, prompt: answerPrompts(password) }),
    });
  }

  const tried: string[] = [];
  let serverAccepts: AuthenticationType[] | undefined;
  let started = false;
  let done = false;

  const handler: AuthPlan['handler'] = (methodsLeft, _partial, next) => {
    if (!started) {
      started = true;
      next({ type: 'none', username });
      return;
    }
    if (methodsLeft) serverAccepts = methodsLeft;
    for (;;) {
      const attempt = attempts.shift();
      if (!attempt) {
        done = true;
        // ssh2 takes `false` for "no more methods"; @types/ssh2 does not say so.
        (next as unknown as (method: false) => void)(false);
        return;
      }
      if (serverAccepts && !serverAccepts.includes(attempt.method)) continue;
      tried.push(attempt.label);
      next(attempt.make());
      return;
    }
  };

  const failure = (): SshError => {
    const where = `${jump ? 'jump host ' : ''}${username}@${hop.host}:${hop.port}`;
    let message = `Authentication failed for ${where}; tried: `;
    message += tried.join(', ') || 'nothing (no password, usable key or agent)';
    if (serverAccepts) message += `. Server accepts: ${serverAccepts.join(',')}`;
    if (identities.notes.length) message += `. Not used: ${identities.notes.join('; ')}`;
    const hint = jump
      ? `Jump hosts log in with keys only: set a key for ${hop.name} (its key in the config file, or IdentityFile in the ssh config), or load its key into ssh-agent.`
      : authHint(hop, identities, secrets, serverAccepts);
    return new SshError('auth-failed', message, hint);
  };

  return { handler, exhausted: () => done, failure };
}

/** What the caller could supply next time, given what the server accepts and what we had. */
function authHint(
  hop: Hop,
  identities: LoadedIdentities,
  secrets: AuthSecrets,
  accepts: AuthenticationType[] | undefined,
): string {
  const offers = (m: AuthenticationType) => !accepts || accepts.includes(m);
  const tips: string[] = [];
  if (identities.locked.length > 0 && offers('publickey')) {
    tips.push(`supply key_passphrase for the encrypted key ${identities.locked.join(', ')}`);
  }
  if (secrets.password === undefined && (offers('password') || offers('keyboard-interactive'))) {
    tips.push('supply password');
  } else if (secrets.password !== undefined) {
    tips.push(`check the password and that the user name '${hop.username}' is right`);
  }
  if (offers('publickey')) {
    tips.push(
      'supply key_filename (a private key whose public key is in ~/.ssh/authorized_keys on the host)',
    );
  }
  if (tips.length === 0) tips.push(`check the user name '${hop.username}' and the credentials`);
  return `To log in, ${tips.join('; or ')}.`;
}

/** Answers prompts that look like a password prompt with the password, any other prompt with ''. */
function answerPrompts(password: string) {
  let rounds = 0;
  return (
    _name: string,
    _instructions: string,
    _lang: string,
    prompts: { prompt: string; echo?: boolean }[],
    finish: (answers: string[]) => void,
  ): void => {
    // A server that keeps asking after two rounds is not going to accept the password: stop feeding it.
    rounds++;
    finish(prompts.map((p) => (rounds <= 2 && /pass(word|code|phrase)/i.test(p.prompt) ? password : '')));
  };
}
