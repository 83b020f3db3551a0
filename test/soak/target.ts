// A session address as tool parameters, and the tokens that tell one command's output from another's.
import { randomBytes } from 'node:crypto';

export interface Target {
  host: string;
  port: number;
  username: string;
  keyPath: string;
}

/** The session id the server uses: user@host:port. */
export function sessionId(t: Target): string {
  return `${t.username}@${t.host}:${t.port}`;
}

/** The parameters execute_command and friends take to reach this session. */
export function connection(t: Target): Record<string, unknown> {
  return { host: t.host, port: t.port, username: t.username, key_filename: t.keyPath };
}

const RUN = Array.from(randomBytes(4), (b) => '0123456789abcdefghijklmnopqrstuvwxyz'[b % 36]).join('');
const TOKEN = /tk[a-z0-9]{4}x\d+/g;
let seq = 0;

/** A token no other command of this run prints. */
export function token(): string {
  return `tk${RUN}x${++seq}`;
}

export function tokensIn(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

export function between(min: number, max: number): number {
  return min + Math.random() * (max - min);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
