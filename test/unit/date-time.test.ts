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

  it('serializes epoch milliseconds to the text toISOString makes, in any order, across days and years', () => {
    const edges = [0, -1, 1, 999, 1_000, 59_999, 86_399_999, 86_400_000, -86_400_000, 951_782_400_000, 253_402_300_799_999, 253_402_300_800_000];
    const extremes = [-62_167_219_200_001, 8.64e15, -8.64e15, 1e12 + 0.5, -0.5];
    const spread = Array.from({ length: 20_000 }, (_, i) => Math.round(Math.sin(i) * 4e12) + (i % 7) * 86_400_000);
    for (const ms of [...edges, ...extremes, ...spread, ...edges]) expect(DateTime.serialize(ms), String(ms)).toBe(new Date(ms).toISOString());
    for (const ms of [Number.NaN, 8.64e15 + 1, Number.POSITIVE_INFINITY]) expect(() => DateTime.serialize(ms)).toThrow(RangeError);
  });

  it('still refuses an invalid Date, and parses input as graphql-scalars does', () => {
    expect(() => DateTime.serialize(new Date(Number.NaN))).toThrow('DateTime cannot represent an invalid Date instance');
    expect(DateTime.parseValue('2026-12-07T05:04:03.002Z')).toEqual(new Date(Date.UTC(2026, 11, 7, 5, 4, 3, 2)));
  });
});
