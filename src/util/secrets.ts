/**
 * Every secret the process has seen (passwords, passphrases, enable/sudo secrets) is registered here so
 * that anything leaving the process (tool results, errors, logs) can be masked with one call.
 */
const known = new Set<string>();
const MASK = '********';

/** Remember a secret so it is masked everywhere. Very short strings are ignored: masking "a" would wreck output. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 3) known.add(secret);
}

export function redact(text: string): string {
  if (known.size === 0) return text;
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}
