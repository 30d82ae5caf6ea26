import { randomUUID } from 'node:crypto';
import type { Page, WebSocket as PageSocket } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { hs256Key, JWT_SECRET, mintJwt, overHttp, PUBLISH_TOKEN_SECRET } from '../support/auth.js';
import { browserPageForTest, saveScreenshot } from '../support/browser.js';
import { graphql, startedSession } from '../support/clients.js';
import { gatewayForTest, redisGatewayForTest, type TestGateway } from '../support/gateway.js';
import { PUBLISH, START_SESSION } from '../support/operations.js';

/** A guard against a stuck page, never a way to wait: each wait ends on the awaited event long before. */
const GUARD_MS = 20_000;

const SUBSCRIPTION = (sessionId: string) =>
  `subscription { agentProgress(sessionId: "${sessionId}") { id seq type ... on Progress { percent message } } }`;

interface OpenedGraphiQL {
  page: Page;
  /** Every request the page made to another origin (each was refused). */
  foreign: string[];
  /** The first WebSocket the page opens, once it has sent `connection_init`. */
  connectionInit: Promise<OpenedSocket>;
}

/**
 * GraphiQL as a browser opens it from the gateway, with `query` in its editor (GraphiQL's `?query=` parameter).
 * Every request to another origin is refused and recorded, so a page that needed a CDN would not work.
 */
async function openGraphiQL(gw: TestGateway, query: string): Promise<OpenedGraphiQL> {
  const page = await browserPageForTest();
  page.setDefaultTimeout(GUARD_MS);
  const origin = new URL(gw.url).origin;
  const foreign: string[] = [];
  await page.route('**/*', (route) => {
    if (new URL(route.request().url()).origin === origin) return route.continue();
    foreign.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  const connectionInit = nextConnectionInit(page);
  await page.goto(`${gw.url}?query=${encodeURIComponent(query)}`, { waitUntil: 'load' });
  await runButton(page).waitFor();
  return { page, foreign, connectionInit };
}

interface SentMessage {
  type: string;
  payload?: unknown;
}

interface OpenedSocket {
  socket: PageSocket;
  /** The payload of its `connection_init` message: the connection parameters. */
  payload: unknown;
  /** Every message the page sent on it so far. */
  sent: SentMessage[];
}

/** The next WebSocket the page opens, once it has sent `connection_init`. */
function nextConnectionInit(page: Page): Promise<OpenedSocket> {
  const connectionInit = page.waitForEvent('websocket').then(async (socket) => {
    // Listening as soon as the socket opens: the messages follow at once.
    const sent: SentMessage[] = [];
    socket.on('framesent', (frame) => sent.push(JSON.parse(String(frame.payload)) as SentMessage));
    const frame = await socket.waitForEvent('framesent', {
      predicate: (frame) => (JSON.parse(String(frame.payload)) as SentMessage).type === 'connection_init',
    });
    return { socket, payload: (JSON.parse(String(frame.payload)) as SentMessage).payload, sent };
  });
  // Not awaited by every test: a rejection (no socket before the page closes) must not go unhandled.
  connectionInit.catch(() => {});
  return connectionInit;
}

function runButton(page: Page) {
  return page.getByRole('button', { name: /^Execute query/ });
}

/** Types `headers` into GraphiQL's headers editor (Monaco) as a developer would, replacing what it held. */
async function typeHeaders(page: Page, headers: Record<string, string>): Promise<void> {
  await page.getByRole('button', { name: 'Headers', exact: true }).click();
  await page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden)').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // One insertion, not keystrokes: Monaco would auto-close the braces and quotes typed one by one.
  await page.keyboard.insertText(JSON.stringify(headers));
}

/** Resolves once GraphiQL's result pane shows `text`. */
function resultShows(page: Page, text: string): Promise<void> {
  return page.locator('.graphiql-response').filter({ hasText: text }).waitFor();
}

// A browser loading a 9 MB page on two shared cores: seconds each, more under load than the default timeout allows.
describe('GraphiQL', { timeout: 60_000 }, () => {
  it('serves every asset from the gateway and runs a subscription over graphql-ws as the x-user-id in its headers editor', async () => {
    const { gw } = await redisGatewayForTest();
    // alice's session: a subscription as anyone else (the default `dev`) would get SESSION_NOT_FOUND.
    const sessionId = await startedSession(gw.url, 'alice');
    const { page, foreign, connectionInit } = await openGraphiQL(gw, SUBSCRIPTION(sessionId));

    await typeHeaders(page, { 'x-user-id': 'alice' });
    await runButton(page).click();
    const { socket, payload, sent } = await connectionInit;
    expect(socket.url()).toBe(gw.wsUrl);
    // The headers editor's identity reached the WebSocket as the connection parameter the gateway reads.
    expect(payload).toEqual({ userId: 'alice' });
    // The history first…
    await resultShows(page, 'SESSION_STARTED');
    // …over graphql-ws (`subscribe`; the legacy subscriptions-transport-ws protocol would send `start`)…
    expect(sent.filter((message) => message.type === 'subscribe')).toHaveLength(1);

    // …and a live event, published over HTTP the way an agent would.
    const message = `tested-${randomUUID()}`;
    const published = await graphql(gw.url, PUBLISH, { sessionId, event: { progress: { percent: 42, message } } }, 'alice');
    expect(published.errors).toBeUndefined();
    await resultShows(page, message);
    await saveScreenshot(page, 'graphiql');

    expect(foreign).toEqual([]);
  });

  it('authenticates its WebSocket with the bearer token in its headers editor when authentication is on', async () => {
    const { gw } = await redisGatewayForTest({
      auth: { secret: JWT_SECRET, roleClaim: 'role', agentRole: 'agent' },
      publishTokenSecret: PUBLISH_TOKEN_SECRET,
    });
    const token = await mintJwt(hs256Key(JWT_SECRET), { sub: 'alice' });
    const sessionId = `s-${randomUUID()}`;
    expect((await overHttp(gw.url, START_SESSION, { sessionId }, token)).results[0]?.errors).toBeUndefined();
    const { page, connectionInit } = await openGraphiQL(gw, SUBSCRIPTION(sessionId));

    await typeHeaders(page, { Authorization: `Bearer ${token}` });
    await runButton(page).click();
    expect((await connectionInit).payload).toEqual({ authorization: `Bearer ${token}` });
    // Only alice sees her session: anonymous, the socket would be refused; as anyone else, SESSION_NOT_FOUND.
    await resultShows(page, 'SESSION_STARTED');
  });

  it('opened again, runs as the headers it kept from the last visit, with no edit', async () => {
    const { gw } = await redisGatewayForTest();
    const sessionId = await startedSession(gw.url, 'alice');
    const { page } = await openGraphiQL(gw, SUBSCRIPTION(sessionId));
    await typeHeaders(page, { 'x-user-id': 'alice' });
    // GraphiQL keeps the headers last edited in localStorage (shortly after the edit) and opens with them.
    await page.waitForFunction(() => localStorage.getItem('graphiql:headers')?.includes('alice'));

    const connectionInit = nextConnectionInit(page);
    await page.reload({ waitUntil: 'load' });
    await runButton(page).click();
    expect((await connectionInit).payload).toEqual({ userId: 'alice' });
    await resultShows(page, 'SESSION_STARTED');
  });

  it('with GRAPHIQL_ASSETS=cdn serves Yoga’s page, which loads GraphiQL from unpkg.com', async () => {
    // What a browser gets: Yoga serves GraphiQL to a GET that accepts HTML.
    const graphiqlHtml = async (gw: TestGateway) => (await fetch(gw.url, { headers: { accept: 'text/html' } })).text();
    const cdn = await graphiqlHtml(await gatewayForTest('memory', { graphiqlAssets: 'cdn' }));
    expect(cdn).toContain('src=https://unpkg.com/@graphql-yoga/graphiql@');
    // The headers editor still reaches the WebSocket.
    expect(cdn).toContain('connectionParams()');
    const bundled = await graphiqlHtml(await gatewayForTest('memory'));
    expect(bundled).not.toContain('unpkg.com');
    expect(bundled).toContain('connectionParams()');
  });
});
