// `npm run soak`: reliability of the built server under load and faults, against real OpenSSH sshds.
//   --quick       a run of about two minutes (fewer sessions, shorter phases)
//   --only a,b    only these phases: mixed, killed, impaired, memory, hygiene
// Exits 1 when any problem count is not zero or a bound was exceeded; see docs/reliability.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup, onExit, runCleanups } from './cleanup.js';
import { FULL, MAX_QUICK_RUN_MS, MAX_RUN_MS, QUICK } from './config.js';
import { startFleet } from './fleet.js';
import type { Ctx, PhaseResult } from './phase.js';
import { hygienePhase } from './phases/hygiene.js';
import { impairedPhase } from './phases/impaired.js';
import { killedPhase } from './phases/killed.js';
import { memoryPhase } from './phases/memory.js';
import { mixedPhase } from './phases/mixed.js';
import { kill, withDescendants } from './procs.js';
import { printSummary } from './report.js';

const PHASES: Record<string, (ctx: Ctx) => Promise<PhaseResult>> = {
  mixed: mixedPhase,
  killed: killedPhase,
  impaired: impairedPhase,
  memory: memoryPhase,
  hygiene: hygienePhase,
};

async function main(): Promise<number> {
  const quick = process.argv.includes('--quick');
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt < 0 ? Object.keys(PHASES) : (process.argv[onlyAt + 1] ?? '').split(',');
  const unknown = only.filter((p) => !(p in PHASES));
  if (unknown.length > 0)
    throw new Error(`unknown phase ${unknown.join(', ')}; phases: ${Object.keys(PHASES)}`);
  if (process.getuid?.() !== 0)
    throw new Error('the soak suite needs root (a throwaway user, sshd): sudo npm run soak');
  const sizes = quick ? QUICK : FULL;
  const maxRunMs = quick ? MAX_QUICK_RUN_MS : MAX_RUN_MS;
  const t0 = Date.now();
  const watchdog = setTimeout(() => {
    console.error(`\nsoak: the run passed its bound of ${maxRunMs / 60_000} min; stopping everything`);
    void runCleanups().finally(() => process.exit(1));
  }, maxRunMs);
  watchdog.unref();

  const workDir = mkdtempSync(join(tmpdir(), 'mcp-soak-'));
  onCleanup(() => rmSync(workDir, { recursive: true, force: true }));
  onExit(() => rmSync(workDir, { recursive: true, force: true })); // a crash (EPIPE on stdout) skips the above
  const home = join(workDir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, '.ssh', 'known_hosts'), '', { mode: 0o600 });
  // One address per session of the phase that needs the most; the hygiene phase uses three sets.
  const addresses = Math.max(
    sizes.mixed.sessions,
    sizes.killed.sessions,
    sizes.impaired.sessions,
    sizes.memory.idleSessions,
    sizes.hygiene.sessions * 3,
  );
  const fleet = await startFleet(addresses);
  onCleanup(() => fleet.stop());
  onExit(() => kill(withDescendants(fleet.listenerPids())));
  console.log(
    `soak: ${quick ? 'quick' : 'full'} run; ${fleet.listenerPids().length} sshd listeners on ${addresses} loopback addresses, port ${fleet.port}, user ${fleet.user}`,
  );
  const ctx: Ctx = { fleet, sizes, home, workDir };
  const results: PhaseResult[] = [];
  for (const name of only) {
    const started = Date.now();
    try {
      results.push(await (PHASES[name] as (ctx: Ctx) => Promise<PhaseResult>)(ctx));
    } catch (error) {
      console.log(`  phase ${name} broke: ${(error as Error).stack}`);
      results.push({ name, bounds: [], error: (error as Error).message, elapsedMs: Date.now() - started });
    }
  }
  const elapsedMs = Date.now() - t0;
  clearTimeout(watchdog);
  return printSummary(results, elapsedMs, maxRunMs) ? 0 : 1;
}

process.on('SIGINT', () => {
  console.error('\nsoak: interrupted; cleaning up');
  void runCleanups().finally(() => process.exit(130));
});

main()
  .then(async (code) => {
    await runCleanups();
    process.exit(code);
  })
  .catch(async (error: Error) => {
    console.error(`soak: ${error.stack ?? error.message}`);
    await runCleanups();
    process.exit(1);
  });
