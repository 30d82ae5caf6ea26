import { z } from 'zod';
import { agentEventSchema } from './validation.js';

/**
 * The JSON Schema of one raw event as agents publish it, generated from the same zod schema the gateway validates
 * with, for agents written in other languages. Text limits are in characters here; inside Redis they are
 * enforced in bytes, which is never looser.
 */
export function rawEventJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(agentEventSchema, { target: 'draft-2020-12' }),
    $id: 'urn:agent-progress-gateway:agent-event',
    title: 'Agent Progress Gateway raw agent event',
    description:
      'One message of the raw Redis format: the variant fields flat beside `type`. Publish it with FCALL apg_publish (durable) or PUBLISH on the session channel (live-only).',
  };
}
