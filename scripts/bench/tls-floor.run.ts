// The floor under the manager's memory per agent: a bare Node TLS server with the manager's TLS
// settings (TLS 1.3, a client certificate asked for, no session tickets), no protocol, and clients
// that each send a report-sized record once a second. What this server's RSS grows by per
// connection is what Node and OpenSSL cost before any of our code runs.
//
//   node .build/scripts/bench/tls-floor.run.mjs --role server
//        prints {"port": P} once listening, then {"connections": n} once a second
//   node .build/scripts/bench/tls-floor.run.mjs --role client --port P --count N --offset K [--ramp-ms MS]
//        prints {"connected": n} once a second
// Both stop on SIGTERM or when stdin closes.

import { constants as cryptoConstants } from 'node:crypto';
import { createServer } from 'node:net';
import { connect, createSecureContext, TLSSocket } from 'node:tls';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { cleanTempDirs, tempDir } from './procs.ts';
import { runArg } from '../lib/run-arg.ts';

const arg = (name: string, fallback?: string): string => runArg('tls-floor', name, fallback);

const role = arg('role');
const stop = () => {
  cleanTempDirs();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
const say = (v: unknown) => process.stdout.write(JSON.stringify(v) + '\n');

if (role === 'server') {
  const id = await loadOrCreateIdentity(tempDir('hw-floor-id-'), 'manager', 'floor-server');
  const secureContext = createSecureContext({ key: id.key, cert: id.cert, minVersion: 'TLSv1.3', secureOptions: cryptoConstants.SSL_OP_NO_TICKET });
  const options = { isServer: true, secureContext, requestCert: true, rejectUnauthorized: false };
  let connections = 0;
  const server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => {
    socket.on('error', () => {});
    const tls = new TLSSocket(socket, options);
    tls.on('error', () => {});
    tls.on('secure', () => connections++);
    tls.on('close', () => connections--);
    tls.on('data', () => {});
    socket.resume();
  });
  server.listen(0, '127.0.0.1', () => say({ port: (server.address() as { port: number }).port }));
  setInterval(() => say({ connections }), 1000);
} else if (role === 'client') {
  const port = Number(arg('port'));
  const count = Number(arg('count'));
  const offset = Number(arg('offset', '0'));
  const rampMs = Number(arg('ramp-ms', '0'));
  const id = await loadOrCreateIdentity(tempDir('hw-floor-id-'), 'agent', `floor-client-${offset}`);
  const report = Buffer.alloc(700, 0x61); // about a report frame
  let connected = 0;
  const open = (i: number) => {
    const k = offset + i;
    const c = connect({
      host: '127.0.0.1', port, key: id.key, cert: id.cert, rejectUnauthorized: false, minVersion: 'TLSv1.3',
      // each from its own source address, as the simulated agents (the typings lack localAddress)
      ...{ localAddress: `127.20.${Math.floor(k / 250) % 250}.${(k % 250) + 1}` },
    }, () => {
      connected++;
      const t = setInterval(() => c.write(report), 1000);
      c.on('close', () => {
        clearInterval(t);
        connected--;
      });
    });
    c.on('error', () => {});
  };
  for (let i = 0; i < count; i++) setTimeout(() => open(i), count > 1 ? (rampMs * i) / count : 0);
  setInterval(() => say({ connected }), 1000);
} else {
  process.stderr.write('tls-floor: --role server|client\n');
  process.exit(2);
}
