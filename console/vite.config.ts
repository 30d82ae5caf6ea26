import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The live progress console: `npm run build:console` writes it to dist/console/, which the gateway serves at
 * /console (src/plugins/use-console.ts). Preact's JSX through Vite's own transform (oxc): no plugin needed.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    // Outside the root, Vite empties it only when told; stale hashed assets would pile up otherwise.
    emptyOutDir: true,
    target: 'es2022',
    // Browsers that run ES2022 load module preloads natively; the polyfill would be an inline script the page's CSP refuses.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
