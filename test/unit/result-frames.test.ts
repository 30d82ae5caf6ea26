import { GraphQLError } from 'graphql';
import { MessageType, parseMessage, stringifyMessage } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import { NextFrames } from '../../src/ws/result-frames.js';

describe('NextFrames', () => {
  it('builds the message graphql-ws would send for a result, with or without errors, for any operation id', () => {
    const results = [
      { data: { agentProgress: { id: '7', seq: 7, message: 'quotes " and \\ and \u2028 and ü' } } },
      { data: null, errors: [new GraphQLError('boom', { path: ['agentProgress', 'seq'], extensions: { code: 'INTERNAL_SERVER_ERROR' } })] },
    ];
    for (const id of ['1', 'op "x"', '\u{1F600}']) {
      const sent: string[] = [];
      const frames = new NextFrames(id, async (frame) => void sent.push(frame));
      for (const result of results) {
        const expected = stringifyMessage({ id, type: MessageType.Next, payload: { ...result, ...(result.errors ? { errors: result.errors.map((e) => e.toJSON()) } : {}) } });
        void frames.send(result);
        expect(parseMessage(sent.at(-1)!)).toEqual(parseMessage(expected));
      }
    }
  });
});
