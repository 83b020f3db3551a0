// A small SSH server that hands each shell or exec channel to a callback. It is for serving recorded or
// simulated devices on the local machine, not for real logins: with no credentials configured it lets
// anyone in. Callers see ShellChannel, never an ssh2 type.
import { readFile } from 'node:fs/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import ssh2, {
  type AuthContext,
  type AuthenticationType,
  type Connection,
  type KeyboardAuthContext,
  type ServerChannel,
} from 'ssh2';
import { fingerprint } from './known-hosts.js';

const { Server, utils } = ssh2;

export interface PtySize {
  term: string;
  cols: number;
  rows: number;
}

/** One session channel (a shell, or one exec command) as the serving code sees it. */
export interface ShellChannel {
  /** 1 for the server's first connection, 2 for the next, ... */
  readonly connection: number;
  readonly username: string;
  /** The exec request's command; undefined for a shell. */
  readonly command: string | undefined;
  /** The terminal the client asked for (updated on window-change); undefined without a pty. */
  readonly pty: PtySize | undefined;
  /** True once the channel is closed or ended; writes are then dropped. */
  readonly closed: boolean;
  /** Sends bytes; resolves once they are accepted (waits under back-pressure, never on a closed channel). */
  write(data: Buffer | string): Promise<void>;
  onData(listener: (data: Buffer) => void): void;
  /** The client sent EOF (it will send nothing more, but still reads). */
  onEnd(listener: () => void): void;
  onClose(listener: () => void): void;
  /** Sends the exit status (none when null or undefined) and closes the channel. */
  end(exitCode?: number | null): void;
}

export interface ShellServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** A private key file (PEM or OpenSSH format); default a fresh ed25519 key. */
  hostKeyFile?: string;
  /** When set, only this user with this password gets in; otherwise any user with any credential. */
  credentials?: { username: string; password: string };
  /** The SSH version string after "SSH-2.0-". */
  software?: string;
  onChannel(channel: ShellChannel): void;
  /** A channel callback that threw; the channel is closed and the server goes on. */
  onError?(error: Error): void;
}

export interface ShellServer {
  host: string;
  port: number;
  /** "SHA256:..." of the host key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** Stops listening and drops every connection; resolves within about a second whatever the clients do. */
  close(): Promise<void>;
}

const ANY_METHOD: AuthenticationType[] = ['password', 'keyboard-interactive', 'publickey'];
const PASSWORD_METHODS: AuthenticationType[] = ['password', 'keyboard-interactive'];
const CLOSE_GRACE_MS = 300;

function publicKeyFingerprint(privateKey: string | Buffer): string | undefined {
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) return undefined;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key ? fingerprint(key.getPublicSSH()) : undefined;
}

/**
 * ssh2 now and then generates an ed25519 key its own parser rejects (a public key with a leading zero byte
 * is written one byte short), so draw until one parses.
 */
function generateHostKey(): string {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (publicKeyFingerprint(pair.private) !== undefined) return pair.private;
  }
  throw new Error('could not generate an ed25519 host key that ssh2 can read');
}

async function loadHostKey(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`host key ${file}: ${(error as Error).message}`);
  }
  if (publicKeyFingerprint(text) === undefined) {
    throw new Error(
      `host key ${file}: not an unencrypted private key ssh2 can read (generate one with ssh-keygen -t ed25519 -N '' -f FILE)`,
    );
  }
  return text;
}

function authenticate(ctx: AuthContext, credentials: ShellServerOptions['credentials']): void {
  const askPassword = (check: (answer: string | undefined) => boolean) =>
    (ctx as KeyboardAuthContext).prompt([{ prompt: 'Password: ', echo: false }], (answers) => {
      if (check(answers[0])) ctx.accept();
      else ctx.reject(PASSWORD_METHODS);
    });
  if (!credentials) {
    if (ctx.method === 'password' || ctx.method === 'publickey') ctx.accept();
    else if (ctx.method === 'keyboard-interactive') askPassword(() => true);
    else ctx.reject(ANY_METHOD);
    return;
  }
  const userOk = ctx.username === credentials.username;
  if (ctx.method === 'password') {
    if (userOk && ctx.password === credentials.password) ctx.accept();
    else ctx.reject(PASSWORD_METHODS);
  } else if (ctx.method === 'keyboard-interactive') {
    askPassword((answer) => userOk && answer === credentials.password);
  } else ctx.reject(PASSWORD_METHODS);
}

/** Wraps an accepted ssh2 channel in ShellChannel. */
function wrapChannel(
  stream: ServerChannel,
  connection: number,
  username: string,
  command: string | undefined,
  pty: () => PtySize | undefined,
): ShellChannel {
  let closed = false;
  const closeListeners: Array<() => void> = [];
  stream.on('error', () => undefined); // a client that vanishes mid-write is not an error worth a crash
  stream.on('close', () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  });
  const isOpen = () => !closed && !stream.destroyed && !stream.writableEnded;
  return {
    connection,
    username,
    command,
    get pty() {
      return pty();
    },
    get closed() {
      return !isOpen();
    },
    write(data) {
      if (!isOpen()) return Promise.resolve();
      if (stream.write(data)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('close', done);
      });
    },
    onData(listener) {
      stream.on('data', (data: Buffer) => listener(Buffer.from(data)));
    },
    onEnd(listener) {
      stream.on('end', listener);
    },
    onClose(listener) {
      if (closed) queueMicrotask(listener);
      else closeListeners.push(listener);
    },
    end(exitCode) {
      if (!isOpen()) return;
      if (exitCode !== undefined && exitCode !== null) stream.exit(exitCode);
      stream.end();
    },
  };
}

function serveConnection(
  client: Connection,
  number: number,
  options: ShellServerOptions,
  onError: (error: Error) => void,
): void {
  let username = '';
  client.on('error', () => undefined); // clients that drop mid-handshake are their own business
  client.on('authentication', (ctx) => {
    username = ctx.username;
    authenticate(ctx, options.credentials);
  });
  client.on('ready', () => {
    client.on('session', (acceptSession) => {
      const session = acceptSession();
      let pty: PtySize | undefined;
      let started = false;
      session.on('pty', (accept, _reject, info) => {
        pty = { term: info.term, cols: info.cols, rows: info.rows };
        accept?.();
      });
      session.on('window-change', (accept, _reject, info) => {
        if (pty) pty = { ...pty, cols: info.cols, rows: info.rows };
        accept?.();
      });
      session.on('env', (accept) => accept?.());
      const start = (stream: ServerChannel, command: string | undefined) => {
        try {
          options.onChannel(wrapChannel(stream, number, username, command, () => pty));
        } catch (error) {
          onError(error as Error);
          stream.end();
        }
      };
      session.on('shell', (accept, reject) => {
        if (started) return reject?.();
        started = true;
        start(accept(), undefined);
      });
      session.on('exec', (accept, reject, info) => {
        if (started) return reject?.();
        started = true;
        start(accept(), info.command);
      });
      session.on('subsystem', (_accept, reject) => reject?.());
      session.on('sftp', (_accept, reject) => reject?.());
      session.on('x11', (_accept, reject) => reject?.());
      session.on('auth-agent', (_accept, reject) => reject?.());
    });
    client.on('request', (_accept, reject) => reject?.());
    client.on('tcpip', (_accept, reject) => reject?.());
  });
}

/** Starts listening; resolves once the port is bound. */
export async function startShellServer(options: ShellServerOptions): Promise<ShellServer> {
  const hostKey = options.hostKeyFile ? await loadHostKey(options.hostKeyFile) : generateHostKey();
  const hostKeyFingerprint = publicKeyFingerprint(hostKey) as string;
  const sockets = new Set<Socket>();
  const clients = new Set<Connection>();
  let connections = 0;
  const onError = (error: Error) => options.onError?.(error);

  const ssh = new Server({ hostKeys: [hostKey], ident: `SSH-2.0-${options.software ?? 'ShellServer'}` });
  ssh.on('connection', (client: Connection) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    serveConnection(client, ++connections, options, onError);
  });
  ssh.on('error', () => undefined);

  // Our own listener, so every socket can be tuned and, on close, destroyed.
  const listener: NetServer = createServer((socket) => {
    // A device answers each keystroke at once; Nagle plus delayed ACKs would add ~40 ms per echo.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    ssh.injectSocket(socket);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port ?? 0, host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const address = listener.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    hostKeyFingerprint,
    close() {
      closing ??= new Promise<void>((resolve) => {
        listener.close();
        // A polite disconnect first (clients read the end of the stream), then whatever is left is cut.
        for (const client of clients) client.end();
        for (const socket of sockets) socket.end();
        const finish = () => {
          clearTimeout(cut);
          for (const socket of sockets) socket.destroy();
          resolve();
        };
        const cut = setTimeout(finish, CLOSE_GRACE_MS);
        cut.unref();
        let open = sockets.size;
        if (open === 0) return finish();
        for (const socket of sockets) {
          socket.once('close', () => {
            if (--open === 0) finish();
          });
        }
      });
      return closing;
    },
  };
}
