// Everything the run started is stopped in reverse order, on success, failure, Ctrl+C or the watchdog.
import { kill } from './procs.js';
import { liveServers } from './server.js';
import { sleep } from './target.js';

/** No single cleanup step may hold the exit up longer than this. */
const STEP_MS = 15_000;
const steps: (() => unknown)[] = [];
const exitSteps: (() => void)[] = [];

export function onCleanup(step: () => unknown): void {
  steps.push(step);
}

/** A synchronous last resort for when the process exits without runCleanups (an uncaught error). */
export function onExit(step: () => void): void {
  exitSteps.push(step);
}

let running: Promise<void> | undefined;

export function runCleanups(): Promise<void> {
  running ??= (async () => {
    kill([...liveServers]);
    for (const step of steps.splice(0).reverse()) {
      try {
        await Promise.race([Promise.resolve().then(step), sleep(STEP_MS)]);
      } catch (error) {
        console.error(`soak: cleanup: ${(error as Error).message}`);
      }
    }
  })();
  return running;
}

process.on('exit', () => {
  kill([...liveServers]);
  for (const step of exitSteps.splice(0)) {
    try {
      step();
    } catch {
      // best effort
    }
  }
});
