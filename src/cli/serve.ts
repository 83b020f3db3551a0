import { parseArgs } from 'node:util';
import { configWarnings } from '../config/describe.js';
import { DEFAULT_LIMITS, RESULT_CEILING } from '../config/limits.js';
import { loadConfig } from '../config/load.js';
import { createServer } from '../server/server.js';
import { StdioLineTransport } from '../server/stdio-transport.js';
import { VERSION } from '../server/version.js';
import { log } from '../util/log.js';
import { type CliCommand, positiveNumber } from './args.js';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'serve MCP on stdio (the default when no command is given)',
  usage: `mcp-ssh-session [serve] [options]

  --config FILE           config file (inventory, secrets by reference, policy, audit log); without it the
                          file is searched for as docs/configuration.md says; none is fine
  --max-output-bytes N    output kept per command (default ${DEFAULT_LIMITS.maxOutputBytes}; env MCP_SSH_MAX_OUTPUT_BYTES)
  --max-result-bytes N    size of one tool result, per block, JSON-encoded (default ${DEFAULT_LIMITS.maxResultBytes}, at most ${RESULT_CEILING}; env MCP_SSH_MAX_RESULT_BYTES)
  --max-wait S            seconds a call waits at most; a longer command goes on in the background (default ${DEFAULT_LIMITS.maxWaitMs / 1000}; env MCP_SSH_MAX_WAIT)
  --max-spill-bytes N     output of one command kept on disk beyond that (default ${DEFAULT_LIMITS.maxSpillBytes}; env MCP_SSH_MAX_SPILL_BYTES)
  --connect-timeout S     seconds for connect + authentication (default ${DEFAULT_LIMITS.connectTimeoutMs / 1000}; env MCP_SSH_CONNECT_TIMEOUT)
Flags and environment beat the config file's limits.`,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        'max-output-bytes': { type: 'string' },
        'max-spill-bytes': { type: 'string' },
        'max-result-bytes': { type: 'string' },
        'connect-timeout': { type: 'string' },
        'max-wait': { type: 'string' },
      },
    });
    const config = await loadConfig({ explicitPath: values.config });
    if (config) {
      log.info(`config: ${config.file}`);
      for (const warning of configWarnings(config)) log.warn(`config: ${warning}`);
    }
    const env = process.env;
    const connectTimeout = positiveNumber(
      '--connect-timeout',
      values['connect-timeout'] ?? env.MCP_SSH_CONNECT_TIMEOUT,
    );
    const maxWait = positiveNumber('--max-wait', values['max-wait'] ?? env.MCP_SSH_MAX_WAIT);
    const maxResult = positiveNumber(
      '--max-result-bytes',
      values['max-result-bytes'] ?? env.MCP_SSH_MAX_RESULT_BYTES,
    );
    if (maxResult !== undefined && maxResult > RESULT_CEILING) {
      log.warn(
        `--max-result-bytes ${maxResult} is over the ceiling; results hold ${RESULT_CEILING} bytes a block`,
      );
    }
    const { server, manager, prompter, check } = createServer({
      ...(config && { config }),
      limits: {
        maxOutputBytes: positiveNumber(
          '--max-output-bytes',
          values['max-output-bytes'] ?? env.MCP_SSH_MAX_OUTPUT_BYTES,
        ),
        maxSpillBytes: positiveNumber(
          '--max-spill-bytes',
          values['max-spill-bytes'] ?? env.MCP_SSH_MAX_SPILL_BYTES,
        ),
        maxResultBytes: maxResult,
        connectTimeoutMs: connectTimeout === undefined ? undefined : connectTimeout * 1000,
        maxWaitMs: maxWait === undefined ? undefined : maxWait * 1000,
      },
    });
    let stopping = false;
    const shutdown = () => {
      if (stopping) return;
      stopping = true;
      // Commands stopped and what sessions started on their hosts ended, spill files deleted, audit log
      // flushed; a host or disk that does not answer does not hold the exit up for long.
      const exit = () => process.exit(0);
      setTimeout(exit, 8000).unref();
      void Promise.allSettled([manager.closeForExit(), prompter.close()]).then(exit);
    };
    process.stdin.on('close', shutdown);
    // The transport closes when stdin ends or either pipe fails: with no way to answer, nothing is left to
    // serve, so the server goes rather than live on deaf.
    server.server.onclose = shutdown;
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
    await server.connect(new StdioLineTransport({ check }));
    log.info(`mcp-ssh-session ${VERSION} listening on stdio`);
    return new Promise<number>(() => {}); // serves until the client goes away
  },
};
