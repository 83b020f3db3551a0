/**
 * Every kind of secret the server handles, in one table: the name dialects, prompts and transcripts use,
 * what it is for (as the user is told), and where it may come from: the tool parameter and the config-file
 * key (one word for both), and the field that holds it in an ssh target and in the merged config.
 * Whatever the kind, a secret is looked up the same way (src/session/secrets.ts, lookupSecret): the call's
 * parameter, else the config's reference (env:/file:), else the user is asked through the secret prompt.
 */
export const SECRET_KINDS = {
  password: { label: 'login password', key: 'password', field: 'password' },
  key_passphrase: { label: 'private key passphrase', key: 'key_passphrase', field: 'keyPassphrase' },
  enable: { label: 'enable secret', key: 'enable_password', field: 'enablePassword' },
  sudo: { label: 'sudo password', key: 'sudo_password', field: 'sudoPassword' },
} as const;

/** A kind of secret by its name: password, key_passphrase, enable, sudo. */
export type SecretName = keyof typeof SECRET_KINDS;
/** Its tool parameter and config-file key: password, key_passphrase, enable_password, sudo_password. */
export type SecretKey = (typeof SECRET_KINDS)[SecretName]['key'];
/** Its field in an ssh target and the merged config: password, keyPassphrase, enablePassword, sudoPassword. */
export type SecretField = (typeof SECRET_KINDS)[SecretName]['field'];

/** The kinds in table order (the order listings show them in). */
export const SECRET_NAMES = Object.keys(SECRET_KINDS) as SecretName[];
/** Every tool parameter / config key that holds a secret, in table order. */
export const SECRET_KEYS: readonly SecretKey[] = SECRET_NAMES.map((name) => SECRET_KINDS[name].key);

/**
 * Every secret the process has seen (passwords, passphrases, enable/sudo secrets) is registered here so
 * that anything leaving the process (tool results, errors, logs, transcripts) can be masked with one call.
 * Each value keeps the name it was first registered under (password, enable, sudo, ...), for transcripts.
 */
const known = new Map<string, string>();
const MASK = '********';

/** Remember a secret so it is masked everywhere. Very short strings are ignored: masking "a" would wreck output. */
export function registerSecret(secret: string | undefined, name = 'secret'): void {
  if (!secret || secret.length < 3 || known.has(secret)) return;
  known.set(secret, name);
}

/** Replace every known secret in `text`; `replacement` says what by (the mask, unless given). */
export function redact(text: string, replacement: (name: string) => string = () => MASK): string {
  if (known.size === 0) return text;
  let out = text;
  for (const [secret, name] of known) {
    if (out.includes(secret)) out = out.split(secret).join(replacement(name));
  }
  return out;
}

/** The same for bytes that are not text (a device that sends Latin-1): each secret's UTF-8 bytes are replaced. */
export function redactBytes(bytes: Buffer, replacement: (name: string) => string = () => MASK): Buffer {
  let out = bytes;
  for (const [secret, name] of known) {
    const needle = Buffer.from(secret);
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, from)) {
      parts.push(out.subarray(from, at), Buffer.from(replacement(name)));
      from = at + needle.length;
    }
    if (parts.length > 0) out = Buffer.concat([...parts, out.subarray(from)]);
  }
  return out;
}

/**
 * Redacts a stream that arrives in pieces: a secret split across two pieces is still caught, because the
 * end of each piece that could be the start of a secret is held back until the next one (or `flush`).
 */
export class StreamRedactor {
  private held = '';

  constructor(private readonly replacement: (name: string) => string = () => MASK) {}

  push(piece: string): string {
    if (known.size === 0 && this.held === '') return piece;
    const text = this.held + piece;
    // Held back: only an end of the text that could be the start of a secret.
    let hold = 0;
    for (const secret of known.keys()) {
      for (let k = Math.min(secret.length - 1, text.length); k > hold; k--) {
        if (text.endsWith(secret.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    let cut = text.length - hold;
    // A whole secret across the cut is released with what comes before it.
    for (const secret of known.keys()) {
      for (let at = text.indexOf(secret); at >= 0 && at < cut; at = text.indexOf(secret, at + 1)) {
        if (at + secret.length > cut) cut = at + secret.length;
      }
    }
    this.held = text.slice(cut);
    return redact(text.slice(0, cut), this.replacement);
  }

  flush(): string {
    const rest = redact(this.held, this.replacement);
    this.held = '';
    return rest;
  }
}

/**
 * Screen lines with every known secret masked, also one the terminal wrapped onto the next line: the
 * lines are searched as one text, and each masked character becomes `*` where it stands.
 */
export function redactLines(lines: readonly string[]): string[] {
  if (known.size === 0) return [...lines];
  const joined = lines.join('');
  const masked = new Uint8Array(joined.length);
  for (const secret of known.keys()) {
    for (let at = joined.indexOf(secret); at >= 0; at = joined.indexOf(secret, at + 1)) {
      masked.fill(1, at, at + secret.length);
    }
  }
  let offset = 0;
  return lines.map((line) => {
    let out = '';
    for (let i = 0; i < line.length; i++) out += masked[offset + i] ? '*' : line[i];
    offset += line.length;
    return out;
  });
}
