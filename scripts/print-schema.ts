/**
 * Prints the GraphQL schema and the raw-format JSON Schema from the code into `schema/`.
 * `npm run print-schema` after any schema change; a test fails while the committed files are stale.
 */
import { writeFileSync } from 'node:fs';
import { printedFiles } from '../src/schema/printed-files.js';

for (const [path, text] of Object.entries(printedFiles())) {
  writeFileSync(new URL(`../${path}`, import.meta.url), text);
  console.log(`wrote ${path}`);
}
