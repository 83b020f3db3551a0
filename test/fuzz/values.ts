import type { Rng } from './rng.js';

/** Where the fuzzer's hostile values point on this machine (see targets.ts and run.ts). */
export interface Fixtures {
  /** A 127.0.0.1 port nothing listens on. */
  refusedPort: number;
  /** A 127.0.0.1 port that accepts and closes at once. */
  closingPort: number;
  /** The fuzz run's folder: HOME and working folder of the server. */
  dir: string;
  fifo: string;
  /** A sparse 1 GiB file. */
  hugeFile: string;
}

const MiB = 1024 * 1024;

/** Strings chosen to break things: empty, huge, control bytes, odd Unicode, traversal, injection. */
export function hostileString(rng: Rng, f: Fixtures): string {
  return rng.pick<() => string>([
    () => '',
    () => ' ',
    () => '\0',
    () => `a\0b`,
    () => '\n\r\t',
    () => 'x'.repeat(rng.pick([256, 4096, 65_536, 256 * 1024, MiB])),
    () => `${'../'.repeat(rng.int(1, 2000))}etc/shadow`,
    () => '/etc/shadow',
    () => '/dev/zero',
    () => '/dev/urandom',
    () => '/proc/self/mem',
    () => f.fifo,
    () => f.hugeFile,
    () => f.dir,
    () => '~root/.ssh/id_rsa',
    () => '~/../../../../../etc/passwd',
    () => '\u202e\u0000\ufeff\ud800',
    () => '😀'.repeat(rng.int(1, 5000)),
    () => '$(reboot)`id`;rm -rf / #',
    () => '{{command}}{{marker}}{{host|regex_escape}}',
    () => '(a+)+$'.repeat(rng.int(1, 50)),
    () => '%s%n%x'.repeat(100),
    () => 'user@127.0.0.1:1',
    () => `127.0.0.1:${f.refusedPort}`,
    () => rng.string('abcdefghijklmnopqrstuvwxyz0123456789-._/~*?[]{}', 1, 300),
    () => rng.string('\u0000\u0001\u001b\u007f\u0085\u2028\u2029"\\\'', 1, 50),
  ])();
}

/** Numbers JSON can carry that code often mishandles. */
export function hostileNumber(rng: Rng): number {
  return rng.pick([
    0,
    -1,
    -0.5,
    0.5,
    1.5,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    2 ** 53 + 2,
    2 ** 63,
    1e308,
    -1e308,
    65536,
    86_401,
    1e-300,
  ]);
}

/** A value of any JSON type, some of them deep or wide. */
export function hostileValue(rng: Rng, f: Fixtures): unknown {
  return rng.pick<() => unknown>([
    () => hostileString(rng, f),
    () => hostileNumber(rng),
    () => true,
    () => false,
    () => null,
    () => [],
    () => ({}),
    () => [hostileString(rng, f)],
    () => ({ nested: hostileString(rng, f) }),
    () => Array.from({ length: rng.int(1, 10_000) }, (_, i) => i),
    () => Object.fromEntries(Array.from({ length: rng.int(1, 5000) }, (_, i) => [`k${i}`, i])),
    () => nest(rng.int(1, 60)),
  ])();
}

/** Arrays nested `depth` deep (the transport refuses more than 64 levels; this stays near the edge). */
export function nest(depth: number): unknown {
  let value: unknown = 'deep';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}
