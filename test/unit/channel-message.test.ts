import { describe, expect, it } from 'vitest';
import { parseChannelMessage } from '../../src/bus/channel-message.js';

const parse = (message: object | string) => parseChannelMessage('s1', typeof message === 'string' ? message : JSON.stringify(message), 65_536);

describe('parseChannelMessage: who logged a durable message', () => {
  it('tells a gateway-logged message ($gw) from an agent FCALL, and keeps $gw out of the event', () => {
    expect(parse({ type: 'PROGRESS', percent: 5, $seq: 3, $ts: 1000, $gw: true })).toEqual({
      ok: true,
      byGateway: true,
      event: { sessionId: 's1', seq: 3, timestamp: 1000, ephemeral: false, event: { type: 'PROGRESS', percent: 5 } },
    });
    expect(parse({ type: 'PROGRESS', percent: 5, $seq: 3, $ts: 1000 })).toMatchObject({ ok: true, byGateway: false });
    expect(parse({ type: 'SESSION_ENDED', reason: 'ENDED', $seq: 4, $ts: 1000, $gw: true })).toMatchObject({ ok: true, byGateway: true });
  });

  it('refuses $gw on a live-only message, like any field no variant has', () => {
    expect(parse({ type: 'PROGRESS', percent: 5 })).toMatchObject({ ok: true, byGateway: false, event: { ephemeral: true } });
    expect(parse({ type: 'PROGRESS', percent: 5, $gw: true })).toEqual({ ok: false, reason: '$gw: unknown field' });
  });
});
