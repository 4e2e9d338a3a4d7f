// A real HTTP receiver on 127.0.0.1:0 that records what it is POSTed, and can fail its first
// answers (a status, or by dropping the connection) or hang, to test retries.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';

export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: any;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  got: Received[];
  /** answers still to fail: a status code, 'drop' (close the socket) or 'hang' (never answer) */
  failures: (number | 'drop' | 'hang')[];
  /** every request, failed or not */
  attempts: number;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const r: Receiver = { url: '', port: 0, got: [], failures: [], attempts: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.attempts++;
      const f = r.failures.shift();
      if (f === 'drop') return req.socket.destroy();
      if (f === 'hang') return;
      if (typeof f === 'number') {
        res.writeHead(f).end('failing on purpose');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        // kept as text
      }
      r.got.push({ path: req.url ?? '', headers: req.headers, body, json, at: Date.now() });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  r.port = (server.address() as { port: number }).port;
  r.url = `http://127.0.0.1:${r.port}`;
  r.close = async () => {
    server.close();
    server.closeAllConnections();
  };
  return r;
}
