// Phase 3: a smaller mixed load through a slow, lossy link. With root, `ip netns` and netem: two
// namespaces of our own joined by a veth pair with netem on both ends. Where netem is missing from the
// kernel, a delaying TCP proxy on loopback instead (said so in the output); without root or netns, skipped.
import { loopbackAddress } from '../config.js';
import { finishServer } from '../leftovers.js';
import { runLoad } from '../load.js';
import { NETEM, netnsLink } from '../netns.js';
import { type Ctx, type PhaseResult, printLeftovers, printTally, serverFor, targets } from '../phase.js';
import { type DelayProxy, type Impairment, startDelayProxy } from '../proxy.js';
import type { SoakServer } from '../server.js';
import { Tally } from '../tally.js';
import type { Target } from '../target.js';

/** The proxy's stand-in for netem: the same delay, and stalls where netem would drop. */
const PROXY: Impairment = { delayMs: 80, stallChance: 0.01, stallMs: [200, 600] };
/** Proxy addresses: clear of the fleet's (127.0.0.x, 127.0.1.x). */
const PROXY_FIRST = 1000;

interface Link {
  how: string;
  targets: Target[];
  server: SoakServer;
  port: number;
  netns?: string;
  close(): Promise<void>;
}

export async function impairedPhase(ctx: Ctx): Promise<PhaseResult> {
  const t0 = Date.now();
  const { sessions, callers, durationMs } = ctx.sizes.impaired;
  console.log(`\n== 3. impaired link: ${sessions} sessions x ${callers} callers for ${durationMs / 1000} s`);
  const link = await setUp(ctx, sessions);
  if (typeof link === 'string') {
    console.log(`  skipped: ${link}`);
    return { name: 'impaired link', bounds: [], skipped: link, elapsedMs: Date.now() - t0 };
  }
  try {
    console.log(`  link: ${link.how}`);
    const tally = new Tally('impaired link');
    const load = await runLoad(
      { server: link.server, tally },
      { targets: link.targets, callers, durationMs },
    );
    tally.settle();
    const leftovers = await finishServer(link.server, {
      port: link.port,
      uid: ctx.fleet.uid,
      netns: link.netns,
    });
    const actions = [...load.actions].map(([name, n]) => `${name} ${n}`).join(', ');
    console.log(`  actions: ${actions}; ${Math.round(load.elapsedMs / 1000)} s`);
    printTally(tally);
    printLeftovers(leftovers);
    return { name: 'impaired link', tally, leftovers, bounds: [], elapsedMs: Date.now() - t0 };
  } finally {
    await link.close();
  }
}

async function setUp(ctx: Ctx, sessions: number): Promise<Link | string> {
  if (process.getuid?.() !== 0) return 'not running as root (network namespaces need it)';
  const ns = await netnsLink(ctx.fleet, sessions);
  if (typeof ns !== 'string') {
    try {
      const server = await serverFor(ctx, 'impaired', { wrap: ns.wrap });
      return {
        how: `namespaces ${ns.netns} and its peer, veth with netem ${NETEM.join(' ')} on both ends`,
        targets: ns.targets,
        server,
        port: ns.port,
        netns: ns.netns,
        close: () => ns.close(),
      };
    } catch (error) {
      await ns.close();
      throw error;
    }
  }
  if (!/netem|qdisc kind is unknown/i.test(ns)) return ns;
  // netem is missing, namespaces work: the proxy on loopback stands in.
  const upstream = targets(ctx, sessions);
  const proxies: DelayProxy[] = [];
  try {
    const list: Target[] = [];
    for (const [i, target] of upstream.entries()) {
      const host = loopbackAddress(PROXY_FIRST + i);
      proxies.push(await startDelayProxy({ host, port: target.port }, target, PROXY));
      list.push({ ...target, host });
    }
    const server = await serverFor(ctx, 'impaired');
    const how =
      `netem unavailable (${ns}); a delaying TCP proxy on loopback instead: ${PROXY.delayMs} ms each way, ` +
      `${PROXY.stallChance * 100}% of chunks stalled ${PROXY.stallMs.join('-')} ms (latency and jitter, no real loss)`;
    const close = async () => {
      await Promise.all(proxies.map((p) => p.close()));
    };
    return { how, targets: list, server, port: ctx.fleet.port, close };
  } catch (error) {
    await Promise.all(proxies.map((p) => p.close()));
    throw error;
  }
}
