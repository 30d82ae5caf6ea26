import { GraphQLScalarType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';

const DateTime = schema.getType('DateTime') as GraphQLScalarType;

describe('the DateTime scalar', () => {
  it('serializes to the text JSON.stringify made of the Date, at once', () => {
    for (const ms of [0, 1_796_622_221_816, Date.UTC(2026, 11, 7, 5, 4, 3, 2)]) {
      const date = new Date(ms);
      expect(DateTime.serialize(date)).toBe(JSON.parse(JSON.stringify(date)));
      expect(typeof DateTime.serialize(date)).toBe('string');
    }
  });

  it('still refuses an invalid Date, and parses input as graphql-scalars does', () => {
    expect(() => DateTime.serialize(new Date(Number.NaN))).toThrow('DateTime cannot represent an invalid Date instance');
    expect(DateTime.parseValue('2026-12-07T05:04:03.002Z')).toEqual(new Date(Date.UTC(2026, 11, 7, 5, 4, 3, 2)));
  });
});
