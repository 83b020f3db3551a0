// Bounds and sizes of the soak run. Every bound here is checked and printed with its measured figure.

/** The whole run, setup and cleanup included; past it the watchdog stops everything and exits 1. */
export const MAX_RUN_MS = 15 * 60_000;
/** The same for `--quick`, which aims at about two minutes. */
export const MAX_QUICK_RUN_MS = 5 * 60_000;
/** A tool call must answer within its own `timeout` plus this; later counts as lost. */
export const CALL_GRACE_MS = 30_000;
/** A background command must reach a final state within this after it was started; later counts as lost. */
export const BACKGROUND_FINAL_MS = 60_000;
/** Phase 2: a command whose connection was killed must end within this. */
export const KILL_DETECT_MS = 10_000;
/** Phase 4: after the 10 MB outputs are read and their sessions closed, RSS must be within this of the start. */
export const RSS_RETURN_MB = 50;
/** Phase 4: what one idle open session may cost the server in RSS. */
export const IDLE_SESSION_KB_MAX = 100;
/** Phase 4: bytes each large command prints. */
export const LARGE_OUTPUT_BYTES = 10_000_000;
/** Phase 5 and phase ends: how long connections and remote processes get to go away after a close. */
export const SETTLE_MS = 3_000;
/** Phase 5: the server must exit this soon after SIGTERM. */
export const SIGTERM_EXIT_MS = 5_000;
/** Examples printed per kind of problem (the counts are always whole). */
export const EXAMPLES_KEPT = 2;

/** Sizes that differ between the full run and `--quick`. */
export interface Sizes {
  mixed: { sessions: number; callers: number; durationMs: number };
  killed: { sessions: number };
  impaired: { sessions: number; callers: number; durationMs: number };
  memory: { idleSessions: number; largeOutputs: number };
  hygiene: { sessions: number };
}

export const FULL: Sizes = {
  mixed: { sessions: 48, callers: 4, durationMs: 180_000 },
  killed: { sessions: 9 },
  impaired: { sessions: 8, callers: 2, durationMs: 45_000 },
  memory: { idleSessions: 100, largeOutputs: 10 },
  hygiene: { sessions: 4 },
};

export const QUICK: Sizes = {
  mixed: { sessions: 16, callers: 4, durationMs: 30_000 },
  killed: { sessions: 6 },
  impaired: { sessions: 4, callers: 2, durationMs: 15_000 },
  // Fewer idle sessions would make the per-session figure mostly V8 heap growth steps.
  memory: { idleSessions: 100, largeOutputs: 4 },
  hygiene: { sessions: 3 },
};

/** Loopback addresses the sessions use: one per session, so each is its own user@host:port. */
export function loopbackAddress(i: number): string {
  // 127.0.0.1 stays the harness's own sshd and everybody else's.
  return `127.0.${Math.floor(i / 200)}.${(i % 200) + 2}`;
}
