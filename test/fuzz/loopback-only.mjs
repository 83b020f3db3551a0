// Loaded into the server under fuzz (node --import): whatever host or port a hostile tool call names, the
// server can only reach 127.0.0.0/8, and there only the ports the fuzzer set up (FUZZ_ALLOWED_PORTS).
// Name lookups answer only for localhost and 127.x literals, so no query leaves the machine either.
import dns from 'node:dns';
import net from 'node:net';

const allowedPorts = new Set((process.env.FUZZ_ALLOWED_PORTS ?? '').split(',').filter(Boolean).map(Number));
const loopback = (host) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) && net.isIPv4(host);

function refused(host) {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${host} (fuzz: only 127.0.0.0/8 is reachable)`), {
    code: 'ENOTFOUND',
    hostname: host,
  });
}

function answer(hostname, options) {
  const name = String(hostname ?? '');
  const address = name === 'localhost' ? '127.0.0.1' : loopback(name) ? name : undefined;
  if (!address) return { error: refused(name) };
  const all = typeof options === 'object' && options !== null && options.all;
  return { result: all ? [{ address, family: 4 }] : { address, family: 4 } };
}

const lookup = (hostname, options, callback) => {
  const cb = typeof options === 'function' ? options : callback;
  const { error, result } = answer(hostname, options);
  process.nextTick(() =>
    error ? cb(error) : Array.isArray(result) ? cb(null, result) : cb(null, result.address, 4),
  );
};
dns.lookup = lookup;
dns.promises.lookup = async (hostname, options) => {
  const { error, result } = answer(hostname, options);
  if (error) throw error;
  return result;
};
for (const name of ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveSrv', 'resolveTxt', 'reverse']) {
  dns[name] = (...args) => {
    const cb = args.at(-1);
    process.nextTick(() => cb(refused(String(args[0]))));
  };
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // net.connect() passes its normalised arguments as one array: [options, callback].
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === 'object' && first !== null ? first : undefined;
  if (typeof options?.path === 'string' || typeof first === 'string') {
    return connect.apply(this, args); // Unix sockets (ssh-agent) stay on this machine by nature
  }
  const port = Number(options ? options.port : first);
  const host = String((options ? options.host : args[1]) ?? 'localhost');
  const target = host === 'localhost' ? '127.0.0.1' : host;
  const reachable = (net.isIP(target) ? loopback(target) : true) && allowedPorts.has(port);
  if (!reachable) {
    const error = Object.assign(new Error(`connect ECONNREFUSED ${host}:${port} (fuzz: not a fuzz target)`), {
      code: 'ECONNREFUSED',
    });
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return connect.apply(this, args); // a name still goes through the lookup above: only loopback answers
};
