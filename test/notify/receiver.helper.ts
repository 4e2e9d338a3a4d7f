// A real HTTP receiver on 127.0.0.1:0 that records what it is POSTed, and can fail its first
// answers (a status, or by dropping the connection) or hang, to test retries, or answer any way a test says.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  /** when set, answers every request itself (after the failures above), e.g. with a huge body */
  answer?: (req: IncomingMessage, res: ServerResponse, body: string) => void;
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
      if (r.answer) return r.answer(req, res, body);
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

export interface Flood {
  /** an `answer` for a Receiver */
  answer: (req: IncomingMessage, res: ServerResponse) => void;
  /** body bytes handed to the socket so far, over every answer */
  written: number;
  /** answers whose connection the client closed before the body's end */
  cut: number;
  /** answers whose whole body was written */
  finished: number;
}

/**
 * Answers `status` with a body of `bytes` (Infinity: one that never ends), written as fast as the
 * client reads it (backpressure), and counts how much went out before the client hung up.
 */
export function flood(status: number, bytes: number, chunk = 64 * 1024): Flood {
  const block = Buffer.alloc(chunk, 'x');
  const f: Flood = {
    written: 0, cut: 0, finished: 0,
    answer: (_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain', ...(Number.isFinite(bytes) ? { 'content-length': String(bytes) } : {}) });
      let left = bytes;
      let closed = false;
      res.on('close', () => {
        closed = true;
        if (left > 0) f.cut++;
      });
      const pump = () => {
        while (!closed && left > 0) {
          const n = Math.min(left, block.length);
          left -= n;
          f.written += n;
          if (left === 0) {
            f.finished++;
            res.end(block.subarray(0, n));
            return;
          }
          if (!res.write(block.subarray(0, n))) return void res.once('drain', pump);
        }
      };
      pump();
    },
  };
  return f;
}
