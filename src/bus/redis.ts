import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis, ReplyError } from 'ioredis';
import { ErrorCode, gatewayError } from '../errors.js';
import type { RawEvent, SessionEvent, SessionRef } from '../events/types.js';
import { anyEventSchema, validateEvent } from '../events/validation.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import { parseChannelMessage } from './channel-message.js';
import type { EventLog, HistoryPage, SessionRecord, StartSessionResult } from './event-log.js';
import { buildLibrarySource, PUBLISH_FUNCTION, type LibraryOptions } from './redis-library.js';
import { channelKey, refOfChannel, sessionKey, streamKey } from './redis-keys.js';

export interface RedisEventLogOptions extends LibraryOptions {
  url: string;
  requestQueueKey: string;
  log: Logger;
  metrics: GatewayMetrics;
}

type FunctionReply = [number, number];

const CODED_REPLY = /^([A-Z_]+) (.*)$/s;

/**
 * The event log on Redis: a Stream per session for history (entry id `<seq>-0`, so a cursor maps straight to an
 * XRANGE bound), a hash per session, a list for jobs, and pub/sub for live delivery through the Yoga Redis event
 * target. Every change runs inside one Redis Function, so append and publish are atomic.
 */
export async function createRedisEventLog(options: RedisEventLogOptions): Promise<EventLog> {
  const { log, metrics } = options;
  const commands = new Redis(options.url, { lazyConnect: true, connectionName: 'apg-commands' });
  const subscriber = new Redis(options.url, { lazyConnect: true, connectionName: 'apg-subscriber' });
  for (const client of [commands, subscriber]) {
    client.on('error', (err: Error) => log.warn({ err: err.message, connection: client.options.connectionName }, 'redis connection error'));
  }
  await Promise.all([commands.connect(), subscriber.connect()]);

  const librarySource = buildLibrarySource(options);
  const loadLibrary = () => commands.call('FUNCTION', 'LOAD', 'REPLACE', librarySource);
  await loadLibrary();

  // The event target ignores the promise SUBSCRIBE returns; this adapter keeps it, so `listen` can wait until
  // Redis has the subscription (no event published after `listen` resolves can be missed), and so a failed
  // SUBSCRIBE is a logged error rather than an unhandled rejection.
  const subscribed = new Map<string, Promise<unknown>>();
  function subscribe(channel: string): Promise<unknown> {
    const done = subscriber.subscribe(channel);
    subscribed.set(channel, done);
    done.catch((err: Error) => {
      if (subscribed.get(channel) === done) subscribed.delete(channel);
      log.warn({ channel, err: err.message }, 'redis subscribe failed');
    });
    return done;
  }
  const subscribeClient = {
    on: (event: string, handler: (...args: unknown[]) => void) => subscriber.on(event, handler),
    subscribe,
    unsubscribe(channel: string) {
      subscribed.delete(channel);
      return subscriber.unsubscribe(channel).catch((err: Error) => log.warn({ channel, err: err.message }, 'redis unsubscribe failed'));
    },
  };

  // Messages published while the subscriber connection was down are gone from pub/sub; after ioredis has
  // resubscribed, every listener is told to catch up from history. 'ready' fires before ioredis re-sends
  // SUBSCRIBE, so the PING is queued a tick later and answers only once the subscriptions are back.
  const resyncCallbacks = new Set<() => void>();
  let connectedBefore = false;
  subscriber.on('ready', () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    setImmediate(() => {
      subscriber.ping().then(
        () => {
          log.info({ listeners: resyncCallbacks.size }, 'redis pub/sub reconnected; resyncing subscribers from history');
          for (const resync of resyncCallbacks) resync();
        },
        (err: Error) => log.warn({ err: err.message }, 'redis ping after reconnect failed'),
      );
    });
  });

  // The serializer is handed only the message; this listener, registered first, tells it which channel it came
  // from (ioredis emits to listeners synchronously, in order), so each bad message is logged once, with its channel.
  let channelInFlight = '';
  subscriber.on('message', (channel: string, message: string) => {
    channelInFlight = channel;
    // The event target turns an empty message into null without asking the serializer: drop it here, visibly.
    if (message === '') dropInvalid(channel, 'empty', 0);
  });
  function dropInvalid(channel: string, reason: string, bytes: number) {
    metrics.invalidEventsDropped.inc({ source: 'channel' });
    log.warn({ channel, reason, bytes }, 'dropped invalid event');
  }
  const events = createRedisEventTarget<CustomEvent<SessionEvent | null>>({
    publishClient: commands,
    subscribeClient: subscribeClient as unknown as Redis,
    serializer: {
      stringify: JSON.stringify,
      parse(message: string) {
        const ref = refOfChannel(channelInFlight);
        const parsed = ref ? parseChannelMessage(ref.sessionId, message, options.maxEventBytes) : undefined;
        if (parsed?.ok) return parsed.event;
        dropInvalid(channelInFlight, parsed?.reason ?? 'unknown channel', message.length);
        return null;
      },
    },
  });

  async function call(name: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      try {
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

  function codedError(err: unknown) {
    const coded = err instanceof ReplyError ? CODED_REPLY.exec(String((err as Error).message)) : null;
    if (coded && coded[1]! in ErrorCode) return gatewayError(coded[1] as ErrorCode, coded[2]!);
    log.error({ err: err instanceof Error ? err.message : String(err) }, 'redis call failed');
    return gatewayError('UNAVAILABLE', 'The event store is unavailable; try again.');
  }

  function logged(ref: SessionRef, [seq, timestamp]: FunctionReply, event: RawEvent): SessionEvent {
    return { sessionId: ref.sessionId, seq, timestamp, ephemeral: false, event };
  }

  function fromEntry(ref: SessionRef, [id, fields]: [string, string[]]): SessionEvent | undefined {
    const seq = Number.parseInt(id, 10);
    const timestamp = Number(fields[fields.indexOf('ts') + 1]);
    let validation;
    try {
      validation = validateEvent(JSON.parse(fields[fields.indexOf('e') + 1] ?? ''), anyEventSchema);
    } catch {
      validation = { ok: false as const, reason: 'not JSON' };
    }
    if (validation.ok) return { sessionId: ref.sessionId, seq, timestamp, ephemeral: false, event: validation.event };
    // Only a hand-made XADD bypasses the function's validation; skip it rather than break every reader.
    metrics.invalidEventsDropped.inc({ source: 'history' });
    log.warn({ stream: streamKey(ref), id, reason: validation.reason }, 'dropped invalid event');
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

    async getSession(sessionId): Promise<SessionRecord | null> {
      let fields: Record<string, string>;
      try {
        fields = await commands.hgetall(sessionKey(sessionId));
      } catch (err) {
        throw codedError(err);
      }
      if (!fields['userId']) return null;
      return { sessionId, userId: fields['userId'], createdAt: Number(fields['createdAt']), updatedAt: Number(fields['updatedAt']) };
    },

    async append(ref, event) {
      const reply = await call(PUBLISH_FUNCTION, [streamKey(ref), sessionKey(ref.sessionId)], [JSON.stringify(event)]);
      return logged(ref, reply as FunctionReply, event);
    },

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

    async listen(ref, listener, onResync) {
      const channel = channelKey(ref);
      const callback = (message: CustomEvent<SessionEvent | null>) => {
        if (message.detail) listener(message.detail);
      };
      events.addEventListener(channel, callback);
      if (onResync) resyncCallbacks.add(onResync);
      const stop = () => {
        events.removeEventListener(channel, callback);
        if (onResync) resyncCallbacks.delete(onResync);
      };
      try {
        await (subscribed.get(channel) ?? subscribe(channel));
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
      await Promise.allSettled([commands.quit(), subscriber.quit()]);
    },
  };
}

