import { setTimeout as delay } from 'node:timers/promises';
import { SshError } from '../ssh/index.js';
import { log } from '../util/log.js';

/**
 * Connections opened at once, server-wide: a fan-out to 500 hosts must not open 500 at one jump host.
 * OpenSSH's MaxStartups (default 10:30:100) starts dropping unauthenticated connections past 10 at once to
 * one sshd; a connection it dropped (closed before the handshake, reset) is tried again after a backoff
 * with jitter, a few times, within the connect timeout. Nothing else is retried: a refused port, a failed
 * login or a changed host key fails at once.
 */
export interface PacingOptions {
  /** Connections being opened at once (TCP, handshake, login); at least 1. */
  maxConnecting: number;
  /** Tries after the first, for a connection dropped before the handshake. */
  retries?: number;
  /** The first backoff; each next one doubles, plus up to half of it at random. */
  backoffMs?: number;
}

const DEFAULT_RETRIES = 3;
const DEFAULT_BACKOFF_MS = 250;

/** A connection the server dropped before talking: what MaxStartups (or a busy jump host) does. */
export function droppedEarly(error: unknown): boolean {
  if (!(error instanceof SshError) || error.code !== 'disconnected') return false;
  return /before the SSH handshake|lost before handshake|ECONNRESET|reset by peer|kex_exchange_identification/i.test(
    error.message,
  );
}

export class ConnectPacer {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /**
   * Connections allowed at once now: halved on each early drop, one more back per login that gets through.
   * A jump host or sshd that takes fewer than maxConnecting (MaxStartups) is met at its pace instead of
   * being hit again by every retry at once.
   */
  private limit: number;
  /** Retries made, for tests and logs. */
  retried = 0;

  constructor(private readonly options: PacingOptions) {
    this.limit = Math.max(1, options.maxConnecting);
  }

  /** Connections being opened now. */
  get connecting(): number {
    return this.active;
  }

  /**
   * `open` run when a slot is free, again after a backoff when the server dropped it early. `deadline`
   * (ms since the epoch) bounds the retries: one that would start past it is not made.
   */
  async connect<T>(what: string, open: () => Promise<T>, deadline = Number.POSITIVE_INFINITY): Promise<T> {
    const retries = this.options.retries ?? DEFAULT_RETRIES;
    const backoff = this.options.backoffMs ?? DEFAULT_BACKOFF_MS;
    for (let attempt = 0; ; attempt++) {
      let retryIn: number;
      await this.acquire();
      try {
        const opened = await open();
        this.limit = Math.min(Math.max(1, this.options.maxConnecting), this.limit + 1);
        return opened;
      } catch (error) {
        retryIn = backoff * 2 ** attempt * (1 + Math.random() / 2);
        if (!droppedEarly(error)) throw error;
        this.limit = Math.max(1, Math.floor(this.limit / 2));
        if (attempt >= retries || Date.now() + retryIn >= deadline) throw error;
        this.retried++;
        log.info(
          `${what}: ${(error as Error).message}; trying again in ${Math.round(retryIn)} ms (${attempt + 1} of ${retries})`,
        );
      } finally {
        this.release();
      }
      await delay(retryIn);
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push(() => {
        this.active++;
        resolve();
      });
    });
  }

  private release(): void {
    this.active--;
    while (this.active < this.limit && this.waiting.length > 0) this.waiting.shift()?.();
  }
}
