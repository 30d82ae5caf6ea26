import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: the proxy's origin. */
  url: string;
  /** The first chunk of every connection (an HTTP request head), in order. */
  heads: string[];
  /** Cuts every connection through the proxy: a real network drop for both ends. */
  cut(): void;
  /**
   * The next response is lost: when its first bytes come back from the target, both connections are destroyed
   * instead. The request itself did reach the target (and did whatever it does there).
   */
  dropNextResponse(): void;
  /** Responses dropped so far. */
  readonly dropped: number;
}

/** Inside a test: a TCP proxy in front of `target` (any http URL), closed when the test finishes. */
export async function tcpProxyForTest(target: string): Promise<TcpProxy> {
  const { port } = new URL(target);
  const sockets = new Set<Socket>();
  const heads: string[] = [];
  let dropArmed = false;
  let dropped = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(port), '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.once('data', (chunk: Buffer) => heads.push(chunk.toString('latin1')));
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (dropArmed) {
        dropArmed = false;
        dropped++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    heads,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    dropNextResponse: () => {
      dropArmed = true;
    },
    get dropped() {
      return dropped;
    },
  };
}
