import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedFiles } from '../../src/schema/printed-files.js';

describe('committed schema files', () => {
  it.each(Object.entries(printedFiles()))('%s matches the code (run `npm run print-schema` when this fails)', (path, printed) => {
    expect(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')).toBe(printed);
  });
});
