import { printSchema } from 'graphql';
import { rawEventJsonSchema } from '../events/json-schema.js';
import { schema } from './index.js';

/** The files under `schema/` that are generated from the code, by path relative to the repository root. */
export function printedFiles(): Record<string, string> {
  return {
    'schema/schema.graphql': `${printSchema(schema)}\n`,
    'schema/agent-event.schema.json': `${JSON.stringify(rawEventJsonSchema(), null, 2)}\n`,
  };
}
