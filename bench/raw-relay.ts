import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * The baseline: the least a server can do to fan Redis pub/sub out to WebSockets. A browser connects with
 * `?user=<u>&session=<s>`; the relay SUBSCRIBEs `channel:user_<u>:session_<s>` on its one pub/sub connection (once
 * per channel) and forwards every message verbatim as a text frame. No GraphQL, no authentication, no history,
 * no gap detection, no pings: every figure of the gateway is compared with this.
 *
 * Run by the benchmark as its own process: `REDIS_URL=… RELAY_PORT=… node --import tsx bench/raw-relay.ts`.
 * It prints `relay listening <port>` when ready and stops on SIGTERM.
 */

const redisUrl = process.env['REDIS_URL'];
if (!redisUrl) throw new Error('REDIS_URL is required');
const port = Number(process.env['RELAY_PORT'] ?? 0);

// Connected before the relay listens: a SUBSCRIBE queued ahead of ioredis's ready check would break that check.
const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
await subscriber.connect();
/** Sockets following each channel, and the SUBSCRIBE that made the channel live. */
const followers = new Map<string, { sockets: Set<WebSocket>; subscribed: Promise<unknown> }>();
const SUBSCRIBED = JSON.stringify({ type: 'subscribed' });

subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
  const following = followers.get(channel.toString());
  if (!following) return;
  for (const socket of following.sockets) socket.send(message, { binary: false });
});

const server = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false });

wss.on('connection', (socket, request) => {
  const params = new URL(request.url ?? '/', 'http://relay').searchParams;
  const channel = `channel:user_${params.get('user')}:session_${params.get('session')}`;
  let following = followers.get(channel);
  if (!following) followers.set(channel, (following = { sockets: new Set(), subscribed: subscriber.subscribe(channel) }));
  following.sockets.add(socket);
  socket.on('error', () => socket.terminate());
  socket.once('close', () => {
    const remaining = followers.get(channel);
    remaining?.sockets.delete(socket);
    if (remaining?.sockets.size === 0) {
      followers.delete(channel);
      void subscriber.unsubscribe(channel);
    }
  });
  // Acknowledged once Redis confirms the subscription, so the client knows nothing published after this is missed.
  following.subscribed.then(
    () => socket.send(SUBSCRIBED),
    () => socket.close(1011, 'subscribe failed'),
  );
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  console.log(`relay listening ${address.port}`);
});

process.on('SIGTERM', () => {
  for (const socket of wss.clients) socket.terminate();
  server.close();
  void subscriber.quit().finally(() => process.exit(0));
});
