import SchemaBuilder from '@pothos/core';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { GatewayContext } from './context.js';

// Pothos makes every output field nullable unless told otherwise; the contract (DESIGN.md) is non-null by default
// (`Session!`, `seq: Int!`, `AgentEvent!`), and the few nullable fields say so with `nullable: true`.
export const builder = new SchemaBuilder<{
  DefaultFieldNullability: false;
  Context: GatewayContext;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({ defaultFieldNullability: false });

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver);

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
