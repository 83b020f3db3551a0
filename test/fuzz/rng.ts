/** A seeded generator (mulberry32): the same seed gives the same inputs, so a failure can be replayed. */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  string(alphabet: string, min: number, max: number): string {
    const length = this.int(min, max);
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  bytes(min: number, max: number): Buffer {
    const out = Buffer.alloc(this.int(min, max));
    for (let i = 0; i < out.length; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** An independent generator for one case, so cases do not shift when another changes. */
  fork(index: number): Rng {
    return new Rng((Math.imul(this.seed ^ 0x9e3779b9, 2654435761) + index * 40503) >>> 0);
  }
}
