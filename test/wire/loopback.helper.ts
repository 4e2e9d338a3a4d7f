// A real TCP connection on 127.0.0.1 with a kernel-chosen port, for tests that need two ends.
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface SocketPair {
  client: Socket;
  server: Socket;
  port: number;
  /** Destroys both ends and closes the listener. */
  close(): Promise<void>;
}

export async function socketPair(): Promise<SocketPair> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as AddressInfo).port;
  const accepted = once(srv, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [server] = await accepted;
  return {
    client, server, port,
    async close() {
      client.destroy();
      server.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}
