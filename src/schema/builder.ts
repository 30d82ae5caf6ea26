import SchemaBuilder from '@pothos/core';
import { GraphQLScalarType } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { GatewayContext } from './context.js';
import { isoTimeOf } from './iso-time.js';

// Pothos makes every output field nullable unless told otherwise; the contract (DESIGN.md) is non-null by default
// (`Session!`, `seq: Int!`, `AgentEvent!`), and the few nullable fields say so with `nullable: true`.
export const builder = new SchemaBuilder<{
  DefaultFieldNullability: false;
  Context: GatewayContext;
  Scalars: {
    DateTime: { Input: Date; Output: Date | number };
    JSON: { Input: unknown; Output: unknown };
  };
}>({ defaultFieldNullability: false });

/**
 * graphql-scalars' DateTime, serialized to its ISO string at once. Its own `serialize` returns the Date, which every
 * `JSON.stringify` of a result then turns into the same string through `toJSON`: 1 µs a timestamp where
 * `toISOString` takes half that, once per delivered event (bench/README.md). Same text on the wire, same parsing.
 * Resolvers on the per-event path hand it epoch milliseconds, which it formats without a Date (iso-time.ts).
 */
const DateTime = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  serialize: (value) => (typeof value === 'number' ? isoTimeOf(value) : (DateTimeResolver.serialize(value) as Date).toISOString()),
});

builder.addScalarType('DateTime', DateTime);
builder.addScalarType('JSON', JSONResolver);

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
