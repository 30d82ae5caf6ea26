import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'graphql-yoga';
import { gatewayError } from '../errors.js';

/** Where the console is served. */
export const CONSOLE_PATH = '/console';

/** The package root: the first folder above this file with a package.json (the same from src/ under tsx and dist/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Where `npm run build:console` (Vite, console/vite.config.ts) writes the console. */
export const CONSOLE_DIR = join(packageRoot(), 'dist', 'console');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Vite names everything under assets/ by its content hash: a changed file gets a new name, so caching it is safe. */
const HASHED_ASSETS = 'assets/';

/**
 * The page talks to this origin only (GraphQL over HTTP and WebSocket) and holds a token: no scripts, styles or
 * connections from anywhere else, and no framing.
 */
const PAGE_POLICY = "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The file a path under `/console` names, relative to the console's folder, or undefined for anything that could
 * leave it: `..` or `.` segments, separators or NUL smuggled in percent-encoded, undecodable escapes.
 */
function relativeFile(pathname: string): string | undefined {
  const rest = pathname.slice(CONSOLE_PATH.length).replace(/^\//, '');
  if (rest === '') return 'index.html';
  const segments: string[] = [];
  for (const raw of rest.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '' || segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return undefined;
    segments.push(segment);
  }
  return segments.join('/');
}

function refusal(fetchAPI: { Response: typeof Response }, status: number, code: 'NOT_FOUND' | 'BAD_REQUEST', message: string, headers: Record<string, string> = {}) {
  const body = JSON.stringify({ errors: [gatewayError(code, message).toJSON()] });
  return new fetchAPI.Response(body, { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}

/**
 * Serves the live progress console (built by Vite into `dir`) at `/console`: `index.html` for `/console` and
 * `/console/`, the files beside it under `/console/…`. Refusals are coded like every other: 404 `NOT_FOUND` for a
 * missing file or one outside `dir`, 405 for anything but GET and HEAD.
 */
export function useConsole(dir: string = CONSOLE_DIR): Plugin {
  const root = resolve(dir);
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== CONSOLE_PATH && !url.pathname.startsWith(`${CONSOLE_PATH}/`)) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return endResponse(refusal(fetchAPI, 405, 'BAD_REQUEST', 'The console is read with GET.', { allow: 'GET, HEAD' }));
      }
      const relative = relativeFile(url.pathname);
      const file = relative === undefined ? undefined : resolve(root, relative);
      // Decoding already refused every way out; checking the resolved path as well costs nothing.
      if (file === undefined || !file.startsWith(root + sep)) {
        return endResponse(refusal(fetchAPI, 404, 'NOT_FOUND', 'No such file in the console.'));
      }
      const found = await stat(file).catch(() => undefined);
      if (!found?.isFile()) {
        const built = existsSync(join(root, 'index.html'));
        const message = built ? 'No such file in the console.' : 'The console is not built: run `npm run build:console` (`npm start` and `npm run build` do).';
        return endResponse(refusal(fetchAPI, 404, 'NOT_FOUND', message));
      }
      const isPage = extname(file) === '.html';
      const headers: Record<string, string> = {
        'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': String(found.size),
        'x-content-type-options': 'nosniff',
        // The page names the current assets: always revalidated. The hashed assets never change under their name.
        'cache-control': relative!.startsWith(HASHED_ASSETS) ? 'public, max-age=31536000, immutable' : 'no-cache',
        ...(isPage ? { 'content-security-policy': PAGE_POLICY, 'referrer-policy': 'no-referrer' } : {}),
      };
      endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : await readFile(file), { status: 200, headers }));
    },
  };
}
