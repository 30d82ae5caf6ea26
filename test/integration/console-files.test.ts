import { request } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { GatewayConfig } from '../../src/config.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/** A console as Vite leaves it (a page, content-hashed assets), next to a file it must never hand out. */
let parent: string;
let consoleDir: string;
const SECRET = 'secret-beside-the-console';
const SCRIPT = 'assets/index-Ab12Cd34.js';
const STYLES = 'assets/index-Ef56Gh78.css';

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), 'apg-console-files-'));
  consoleDir = join(parent, 'console');
  await mkdir(join(consoleDir, 'assets'), { recursive: true });
  await writeFile(join(parent, 'secret.txt'), SECRET);
  await writeFile(join(consoleDir, 'index.html'), `<!doctype html><title>console</title><script type="module" src="/console/${SCRIPT}"></script>`);
  await writeFile(join(consoleDir, SCRIPT), 'document.title = "running";');
  await writeFile(join(consoleDir, STYLES), 'body { color: black }');
});

afterAll(() => rm(parent, { recursive: true, force: true }));

async function gatewayServing(dir: string, config: Partial<GatewayConfig> = {}): Promise<TestGateway> {
  const gw = await startGateway({ store: 'memory', config, consoleDir: dir });
  onTestFinished(() => gw.stop());
  return gw;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The path sent exactly as written: fetch() would resolve `..` and re-encode before sending. */
function raw(gw: TestGateway, path: string, method = 'GET'): Promise<RawResponse> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const sent = request({ host: hostname, port, path, method }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    sent.on('error', reject);
    sent.end();
  });
}

function codeOf(response: RawResponse): unknown {
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  return (JSON.parse(response.body) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code;
}

describe('/console', () => {
  it('serves the page, never cached stale, and its hashed assets, cached for good, with their content types', async () => {
    const gw = await gatewayServing(consoleDir);
    for (const path of ['/console', '/console/']) {
      const page = await raw(gw, path);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['content-security-policy']).toContain("default-src 'self'");
      expect(page.body).toContain(`/console/${SCRIPT}`);
    }
    const script = await raw(gw, `/console/${SCRIPT}`);
    expect([script.status, script.headers['content-type'], script.headers['cache-control']]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
    ]);
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    expect(script.body).toBe('document.title = "running";');
    expect((await raw(gw, `/console/${STYLES}`)).headers['content-type']).toBe('text/css; charset=utf-8');
    const head = await raw(gw, '/console', 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('refuses every way out of its folder, and missing files, with a coded 404', async () => {
    const gw = await gatewayServing(consoleDir);
    // Encoded separators, dots and NUL survive URL parsing and reach the plugin.
    for (const path of [
      '/console/..%2fsecret.txt',
      '/console/%2e%2e%2fsecret.txt',
      '/console/assets/..%2f..%2fsecret.txt',
      '/console/..%5csecret.txt',
      '/console/assets%2f..%2f..%2fsecret.txt',
      '/console/secret.txt%00',
      '/console/%E0%A4%A',
      '/console/assets/',
      '/console/assets',
      '/console/assets/missing.js',
    ]) {
      const response = await raw(gw, path);
      expect([path, response.status, codeOf(response)]).toEqual([path, 404, 'NOT_FOUND']);
    }
    // Plain and encoded dot segments are resolved by URL parsing before any plugin sees the path: it is no
    // longer under /console, and nothing else serves files.
    for (const path of ['/console/../secret.txt', '/console/%2e%2e/secret.txt', '/console/assets/../../secret.txt']) {
      const response = await raw(gw, path);
      expect([path, response.status]).toEqual([path, 404]);
      expect(response.body).not.toContain(SECRET);
    }
  });

  it('takes only GET and HEAD', async () => {
    const gw = await gatewayServing(consoleDir);
    const response = await raw(gw, '/console', 'POST');
    expect([response.status, codeOf(response), response.headers['allow']]).toEqual([405, 'BAD_REQUEST', 'GET, HEAD']);
  });

  it('says how to build the console when it was not built', async () => {
    const gw = await gatewayServing(join(parent, 'never-built'));
    const response = await raw(gw, '/console');
    expect([response.status, codeOf(response)]).toEqual([404, 'NOT_FOUND']);
    expect(response.body).toContain('npm run build:console');
  });

  it('is not served with CONSOLE off', async () => {
    const gw = await gatewayServing(consoleDir, { console: false });
    const response = await raw(gw, '/console');
    expect(response.status).toBe(404);
    expect(response.body).not.toContain('<!doctype html>');
  });
});
