import { INT_MAX } from '../../src/events/validation.js';
import type { FieldSpec } from '../../src/events/variants.js';

/** Field values of every kind, shared by the zod tests and the fast check's equivalence tests. */

/** A valid value of every field kind. */
export function validValue(spec: FieldSpec): unknown {
  switch (spec.kind) {
    case 'id':
      return 'id_1-A';
    case 'text':
      return 'some text';
    case 'int':
      return 42;
    case 'number':
      return 12.5;
    case 'percent':
      return 37.5;
    case 'boolean':
      return false;
    case 'json':
      return { nested: [1, 'two', null, { three: true }] };
    case 'jsonArray':
      return [{ op: 'replace', path: '/a', value: 1 }];
  }
}

/** Values of the right JSON shape or wrong type that a field of this kind must refuse. */
export function invalidValues(spec: FieldSpec): unknown[] {
  switch (spec.kind) {
    case 'id':
      return ['', 'a:b', 'a*', 'a b', 'é', 'x'.repeat(129), 5];
    case 'text':
      return ['x'.repeat(spec.max + 1), 42, ['a']];
    case 'int':
      return [-1, 1.5, INT_MAX + 1, '3', Number.NaN, Number.POSITIVE_INFINITY];
    case 'number':
      return [-0.01, -1, '3', Number.NaN, Number.POSITIVE_INFINITY];
    case 'percent':
      return [-0.1, -1, 100.1, 101, '50', Number.NaN];
    case 'boolean':
      return ['true', 1, 0];
    case 'json':
      return [() => 1, new Date(0), 10n];
    case 'jsonArray':
      return [{}, { 0: 'a' }, 'x', 3];
  }
}

/** Boundary values a field of this kind must still accept. */
export function boundaryValues(spec: FieldSpec): unknown[] {
  switch (spec.kind) {
    case 'id':
      return ['a', 'x'.repeat(128), 'A-z_09'];
    case 'text':
      return ['x'.repeat(spec.max)];
    case 'int':
      return [0, INT_MAX];
    case 'number':
      return [0, 1e12];
    case 'percent':
      return [0, 100, 0.5];
    case 'boolean':
      return [true, false];
    case 'json':
      return ['string', 0, [], {}, true];
    case 'jsonArray':
      return [[1], [{ op: 'remove', path: '/x' }, { op: 'add', path: '/y', value: null }]];
  }
}
