import { Redis, ReplyError } from 'ioredis';
import { ErrorCode, gatewayError } from '../errors.js';
import type { RawEvent, SessionEvent, SessionRef } from '../events/types.js';
import { validateOwnedEvent } from '../events/fast-validation.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import { BatchedLookups } from './batched-lookups.js';
import { coalescedWrites } from './coalesced-writes.js';
import { parseChannelMessage } from './channel-message.js';
import { withFeed, withoutFeed, type Appended, type EventLog, type FeedList, type HistoryPage, type SessionRecord, type StartSessionResult } from './event-log.js';
import { buildLibrarySource, GATEWAY_PUBLISH_FUNCTION, type LibraryOptions } from './redis-library.js';
import { channelKey, sessionKey, streamKey } from './redis-keys.js';

export interface RedisEventLogOptions extends LibraryOptions {
  url: string;
  requestQueueKey: string;
  log: Logger;
  metrics: GatewayMetrics;
}

type FunctionReply = [number, number];
/** The publish functions' reply: first seq, timestamp, 1 when an idempotency key answered an earlier publish. */
type PublishReply = [number, number, number];

/** A command that gets no reply within this long (a half-open connection, a stalled Redis) fails with UNAVAILABLE. */
const COMMAND_TIMEOUT_MS = 5_000;
/** How long `close()` lets QUIT wait for the replies still due before it drops the connections. */
const QUIT_TIMEOUT_MS = 2_000;
/** How long an idle check may wait for others to share its round trip (BatchedLookups). */
const IDLE_CHECK_BATCH_MS = 100;
/** Reconnect quickly after a blip, then once a second per connection while Redis stays away. */
const retryStrategy = (attempt: number) => Math.min(attempt * 100, 1_000);

/**
 * The commands connection fails fast and never acts late. ioredis by default queues a command issued while
 * disconnected (`enableOfflineQueue`) and re-sends one that was in flight when the connection dropped
 * (`autoResendUnfulfilledCommands`), giving up only after `maxRetriesPerRequest` (20) reconnect attempts — and a
 * command that times out (`commandTimeout`) while queued is still sent once Redis is back. A publish could then be
 * reported as failed and happen anyway, or happen twice. Instead:
 * - `enableOfflineQueue: false`: a command issued while Redis is unreachable fails at once (UNAVAILABLE);
 * - `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false`: a command in flight when the connection
 *   drops fails at once and is never re-sent (it may or may not have run: the reply was lost);
 * - `commandTimeout`: a command on a connection that looks open but never answers fails after COMMAND_TIMEOUT_MS.
 * So every call ends within a bounded time, and a failure means the caller may retry; readiness (`isHealthy`)
 * turns false for the outage.
 */
const COMMAND_CONNECTION = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  commandTimeout: COMMAND_TIMEOUT_MS,
  retryStrategy,
} as const;

/**
 * The subscriber connection carries only SUBSCRIBE, UNSUBSCRIBE and PING, which are idempotent: they wait for the
 * connection however long it takes (`maxRetriesPerRequest: null`) and go out when it is back, after ioredis has
 * re-subscribed the channels it had (`autoResubscribe`). What was published meanwhile is resynced from history.
 */
const SUBSCRIBER_CONNECTION = { maxRetriesPerRequest: null, retryStrategy } as const;

const CODED_REPLY = /^([A-Z_]+) (.*)$/s;

/**
 * The event log on Redis: a Stream per session for history (entry id `<seq>-0`, so a cursor maps straight to an
 * XRANGE bound), a hash per session, a list for jobs, and pub/sub for live delivery through the Yoga Redis event
 * target. Every change runs inside one Redis Function, so append and publish are atomic.
 */
export async function createRedisEventLog(options: RedisEventLogOptions): Promise<EventLog> {
  const { log, metrics } = options;
  const commands = new Redis(options.url, { lazyConnect: true, connectionName: 'apg-commands', ...COMMAND_CONNECTION });
  const subscriber = new Redis(options.url, { lazyConnect: true, connectionName: 'apg-subscriber', ...SUBSCRIBER_CONNECTION });
  for (const client of [commands, subscriber]) {
    client.on('error', (err: Error) => log.warn({ err: err.message, connection: client.options.connectionName }, 'redis connection error'));
  }
  metrics.watchRedisConnection('commands', () => commands.status === 'ready');
  metrics.watchRedisConnection('subscriber', () => subscriber.status === 'ready');
  await Promise.all([commands.connect(), subscriber.connect()]);

  const librarySource = buildLibrarySource(options);
  const loadLibrary = () => commands.call('FUNCTION', 'LOAD', 'REPLACE', librarySource);
  await loadLibrary();

  // Messages published while the subscriber connection was down are gone from pub/sub; after ioredis has
  // resubscribed, every feed is told to catch up from history. 'ready' fires before ioredis re-sends
  // SUBSCRIBE, so the PING is queued a tick later and answers only once the subscriptions are back. The catch-up
  // reads history on the commands connection, which reconnects on its own: wait for it too, or the reads would
  // fail (it does not queue) and end the subscriptions with UNAVAILABLE.
  const commandsReady = () =>
    commands.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => commands.once('ready', () => resolve()));
  // connect() resolved on the first 'ready' before this listener existed: only a 'ready' seen by a listener added
  // before that one may be the first connection. (Starting from `false` here swallowed the first reconnection.)
  let connectedBefore = subscriber.status === 'ready';
  subscriber.on('ready', () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    setImmediate(() => {
      subscriber.ping().then(
        async () => {
          await commandsReady();
          const followed = [...channels.values()];
          log.info({ channels: followed.length }, 'redis pub/sub reconnected; resyncing subscribers from history');
          for (const { feeds } of followed) for (const feed of feeds) feed.resync?.();
        },
        (err: Error) => log.warn({ err: err.message }, 'redis ping after reconnect failed'),
      );
    });
  });

  // Live delivery: one SUBSCRIBE per channel however many of this process's subscribers follow it, each message
  // parsed and validated once, then handed to every feed of its channel in order. (This replaced Yoga's Redis
  // event target, which wraps every message in a DOM CustomEvent: measurable at tens of thousands of messages per
  // second, see bench/README.md.) `subscribed` is the SUBSCRIBE reply, so `listen` can wait until Redis has the
  // subscription (no event published after `listen` resolves can be missed); it is dropped when SUBSCRIBE fails,
  // so the next listener tries again. Each channel keeps its session's id, so a message needs no parsing of the
  // channel's name.
  const channels = new Map<string, { feeds: FeedList; sessionId: string; subscribed?: Promise<unknown> }>();
  function subscribed(channel: string, followed: { subscribed?: Promise<unknown> }): Promise<unknown> {
    if (followed.subscribed) return followed.subscribed;
    const done = subscriber.subscribe(channel);
    followed.subscribed = done;
    done.catch((err: Error) => {
      if (followed.subscribed === done) delete followed.subscribed;
      log.warn({ channel, err: err.message }, 'redis subscribe failed');
    });
    return done;
  }
  subscriber.on('message', (channel: string, message: string) => {
    const followed = channels.get(channel);
    if (!followed) return;
    const parsed = message === '' ? undefined : parseChannelMessage(followed.sessionId, message, options.maxEventBytes);
    if (!parsed?.ok) return dropInvalid(channel, followed.sessionId, parsed?.reason ?? 'empty', message.length);
    // What a gateway logged it counted itself; the rest came from agents straight into Redis.
    if (!parsed.byGateway) metrics.countPublished(parsed.event.ephemeral ? 'live_raw' : 'durable_raw', parsed.event.event.type);
    for (const feed of followed.feeds) feed.push(parsed.event);
  });
  function dropInvalid(channel: string, sessionId: string, reason: string, bytes: number) {
    metrics.invalidEventsDropped.inc({ source: 'channel' });
    log.warn({ channel, sessionId, reason, bytes }, 'dropped invalid event');
  }

  // Publishes and reads arrive in callbacks of their own; their commands go out together (coalesced-writes.ts).
  const coalesce = coalescedWrites(() => commands.stream);

  async function call(name: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      try {
        coalesce();
        return await commands.call('FCALL', name, keys.length, ...keys, ...args);
      } catch (err) {
        // Functions live in Redis memory: a Redis restarted without persistence has forgotten them.
        if (!(err instanceof ReplyError && /function not found/i.test(String((err as Error).message)))) throw err;
        await loadLibrary();
        return await commands.call('FCALL', name, keys.length, ...keys, ...args);
      }
    } catch (err) {
      throw codedError(err);
    }
  }

  // Idle checks can wait a moment: those of each IDLE_CHECK_BATCH_MS go out as one pipeline.
  const existence = new BatchedLookups<string, boolean>(async (sessionIds) => {
    const pipeline = commands.pipeline();
    for (const sessionId of sessionIds) pipeline.hexists(sessionKey(sessionId), 'userId');
    const replies = (await pipeline.exec()) ?? [];
    return sessionIds.map((_, i) => {
      const [err, exists] = replies[i] ?? [new Error('no reply'), 0];
      return err ?? exists === 1;
    });
  }, IDLE_CHECK_BATCH_MS);

  function codedError(err: unknown) {
    const coded = err instanceof ReplyError ? CODED_REPLY.exec(String((err as Error).message)) : null;
    if (coded && coded[1]! in ErrorCode) return gatewayError(coded[1] as ErrorCode, coded[2]!);
    log.error({ err: err instanceof Error ? err.message : String(err) }, 'redis call failed');
    return gatewayError('UNAVAILABLE', 'The event store is unavailable; try again.');
  }

  async function appendAll(ref: SessionRef, events: RawEvent[], idempotencyKey = ''): Promise<Appended> {
    const jsons = events.map((event) => JSON.stringify(event));
    const keys = [streamKey(ref), sessionKey(ref.sessionId)];
    const [first, timestamp, replayed] = (await call(GATEWAY_PUBLISH_FUNCTION, keys, [idempotencyKey, ...jsons])) as PublishReply;
    return {
      events: events.map((event, i) => ({ sessionId: ref.sessionId, seq: first + i, timestamp, ephemeral: false, event })),
      replayed: replayed === 1,
    };
  }

  function logged(ref: SessionRef, [seq, timestamp]: FunctionReply, event: RawEvent): SessionEvent {
    return { sessionId: ref.sessionId, seq, timestamp, ephemeral: false, event };
  }

  function fromEntry(ref: SessionRef, [id, fields]: [string, string[]]): SessionEvent | undefined {
    const seq = Number.parseInt(id, 10);
    const timestamp = Number(fields[fields.indexOf('ts') + 1]);
    let validation;
    try {
      validation = validateOwnedEvent(JSON.parse(fields[fields.indexOf('e') + 1] ?? ''), false);
    } catch {
      validation = { ok: false as const, reason: 'not JSON' };
    }
    if (validation.ok) return { sessionId: ref.sessionId, seq, timestamp, ephemeral: false, event: validation.event };
    // Only a hand-made XADD bypasses the function's validation; skip it rather than break every reader.
    metrics.invalidEventsDropped.inc({ source: 'history' });
    log.warn({ stream: streamKey(ref), sessionId: ref.sessionId, id, reason: validation.reason }, 'dropped invalid event');
    return undefined;
  }

  return {
    async startSession(ref, started): Promise<StartSessionResult> {
      const [outcome, createdAt, updatedAt] = (await call('apg_start_session', [streamKey(ref), sessionKey(ref.sessionId)], [
        ref.userId,
        JSON.stringify(started),
      ])) as [string, number, number];
      if (outcome === 'TAKEN') return { outcome: 'taken' };
      return { outcome: outcome === 'CREATED' ? 'created' : 'existing', session: { ...ref, createdAt, updatedAt } };
    },

    sessionExists: (sessionId) => existence.get(sessionId),

    async getSession(sessionId): Promise<SessionRecord | null> {
      let fields: Record<string, string>;
      try {
        coalesce();
        fields = await commands.hgetall(sessionKey(sessionId));
      } catch (err) {
        throw codedError(err);
      }
      if (!fields['userId']) return null;
      return { sessionId, userId: fields['userId'], createdAt: Number(fields['createdAt']), updatedAt: Number(fields['updatedAt']) };
    },

    async append(ref, event) {
      return (await appendAll(ref, [event])).events[0]!;
    },

    appendAll,

    async submitRequest(ref, queued, job) {
      const keys = [streamKey(ref), sessionKey(ref.sessionId), options.requestQueueKey];
      const reply = await call('apg_submit_request', keys, [JSON.stringify(queued), JSON.stringify(job)]);
      return logged(ref, reply as FunctionReply, queued);
    },

    async endSession(ref, ended) {
      const reply = await call('apg_end_session', [streamKey(ref), sessionKey(ref.sessionId)], [JSON.stringify(ended)]);
      return logged(ref, reply as FunctionReply, ended);
    },

    async read(ref, afterSeq, limit): Promise<HistoryPage> {
      const key = streamKey(ref);
      let replies;
      try {
        replies = await commands
          .multi()
          .xrange(key, '-', '+', 'COUNT', 1)
          .xrevrange(key, '+', '-', 'COUNT', 1)
          .xrange(key, `(${afterSeq}-0`, '+', 'COUNT', limit)
          .exec();
      } catch (err) {
        throw codedError(err);
      }
      const [first, last, page] = (replies ?? []).map(([err, result]) => {
        if (err) throw codedError(err);
        return result as [string, string[]][];
      });
      const seqOf = (entries: [string, string[]][] | undefined) => (entries?.[0] ? Number.parseInt(entries[0][0], 10) : 0);
      const events = (page ?? []).flatMap((entry) => fromEntry(ref, entry) ?? []);
      return { events, firstSeq: seqOf(first), lastSeq: seqOf(last) };
    },

    async listen(ref, feed) {
      const channel = channelKey(ref);
      // SUBSCRIBE would wait for the connection to come back: a new subscription fails now instead, coded.
      if (subscriber.status !== 'ready') throw gatewayError('UNAVAILABLE', 'The event store is unavailable; try again.');
      let followed = channels.get(channel);
      if (!followed) channels.set(channel, (followed = { feeds: [], sessionId: ref.sessionId }));
      followed.feeds = withFeed(followed.feeds, feed);
      let stopped = false;
      const stop = () => {
        if (stopped) return;
        stopped = true;
        followed.feeds = withoutFeed(followed.feeds, feed);
        if (followed.feeds.length === 0 && channels.get(channel) === followed) {
          channels.delete(channel);
          subscriber.unsubscribe(channel).catch((err: Error) => log.warn({ channel, err: err.message }, 'redis unsubscribe failed'));
        }
      };
      try {
        await subscribed(channel, followed);
      } catch (err) {
        stop();
        throw codedError(err);
      }
      return stop;
    },

    async takeJob() {
      const job = await commands.lpop(options.requestQueueKey);
      return job ? (JSON.parse(job) as Record<string, unknown>) : null;
    },

    isHealthy: () => commands.status === 'ready' && subscriber.status === 'ready',

    async close() {
      // QUIT goes out after the commands still in flight, so their replies arrive first; a connection that is down
      // or never answers is dropped (and stops reconnecting) all the same.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([commands.quit(), subscriber.quit()]),
        new Promise((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

