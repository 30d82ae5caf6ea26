import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page, WebSocketRoute } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import type { GatewayConfig } from '../../src/config.js';
import { hs256Key, JWT_SECRET, mintJwt, PUBLISH_TOKEN_SECRET } from '../support/auth.js';
import { browserPageForTest, saveScreenshot } from '../support/browser.js';
import { graphql } from '../support/clients.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { PUBLISH } from '../support/operations.js';

/** A guard against a stuck page, never a way to wait: each wait ends on the awaited DOM change long before. */
const GUARD_MS = 15_000;
const RED = 'rgb(198, 40, 40)';

let consoleDir: string;

beforeAll(async () => {
  // Built from the current sources into a folder of its own: `npm run build` (the deployment test) may be
  // rewriting dist/console at the same time.
  consoleDir = await mkdtemp(join(tmpdir(), 'apg-console-'));
  await build({
    configFile: fileURLToPath(new URL('../../console/vite.config.ts', import.meta.url)),
    mode: 'production',
    logLevel: 'warn',
    build: { outDir: consoleDir, emptyOutDir: true },
  });
}, 60_000);

afterAll(() => rm(consoleDir, { recursive: true, force: true }));

/** A gateway on the run's Redis serving the console built above, stopped when the test finishes. */
async function consoleGateway(config: Partial<GatewayConfig> = {}): Promise<TestGateway> {
  const gw = await startGateway({ store: 'redis', redisUrl: inject('redisUrl'), config, consoleDir });
  onTestFinished(() => gw.stop());
  return gw;
}

interface OpenedConsole {
  page: Page;
  /** Uncaught exceptions and Content-Security-Policy violations on the page: there should be none. */
  problems: string[];
  /** The variables of every `subscribe` message the page sent, over every socket it opened. */
  subscribes: { sessionId: string; after: string | null }[];
  /** Closes the page's WebSocket and refuses every new one (as a dead network would) until `restore()`. */
  cut(): Promise<void>;
  restore(): void;
}

async function openConsole(gw: TestGateway): Promise<OpenedConsole> {
  const page = await browserPageForTest();
  // Every WebSocket of the page goes through the test, which can cut it.
  const open = new Set<WebSocketRoute>();
  let refusing = false;
  await page.routeWebSocket(/\/graphql$/, (socket) => {
    // 1012 (service restart): a close graphql-ws clients retry after.
    if (refusing) return void socket.close({ code: 1012, reason: 'cut by the test' });
    socket.connectToServer();
    open.add(socket);
  });
  const cut = async () => {
    refusing = true;
    for (const socket of open) await socket.close({ code: 1012, reason: 'cut by the test' });
    open.clear();
  };
  page.setDefaultTimeout(GUARD_MS);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) problems.push(message.text());
  });
  const subscribes: OpenedConsole['subscribes'] = [];
  page.on('websocket', (socket) =>
    socket.on('framesent', (frame) => {
      const message = JSON.parse(String(frame.payload)) as { type: string; payload?: { variables: OpenedConsole['subscribes'][number] } };
      if (message.type === 'subscribe') subscribes.push(message.payload!.variables);
    }),
  );
  await page.goto(`${new URL(gw.url).origin}/console`, { waitUntil: 'load' });
  return { page, problems, subscribes, cut, restore: () => (refusing = false) };
}

/** Resolves once the connection indicator says `status`. */
function connection(page: Page, status: string): Promise<void> {
  return page.locator(`.connection[data-status="${status}"]`).waitFor();
}

/** Resolves once `locator` (or one of its matches) shows `text`. */
function shows(locator: Locator, text: string): Promise<void> {
  return locator.filter({ hasText: text }).first().waitFor();
}

/** A timeline entry of the request card: a run, agent, step, model or tool call. */
function span(card: Locator, kind: string, label: string): Locator {
  return card.locator(`li[data-span-kind="${kind}"][data-label="${label}"]`);
}

async function startSessionInPage(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Start session' }).click();
  const session = page.locator('.session[data-session-id]');
  // SESSION_STARTED, from the history the subscription begins with.
  await shows(session.locator('.received'), '1');
  return (await session.getAttribute('data-session-id'))!;
}

async function submitInPage(page: Page, prompt: string): Promise<{ card: Locator; requestId: string }> {
  await page.locator('textarea[name=prompt]').fill(prompt);
  await page.getByRole('button', { name: 'Submit request' }).click();
  // REQUEST_QUEUED, back through the subscription.
  const card = page.locator('article.request').filter({ hasText: prompt });
  await card.waitFor();
  return { card, requestId: (await card.getAttribute('data-request-id'))! };
}

describe('the console', () => {
  it('renders every kind of event as it arrives, and resumes after its gateway restarts with nothing missed or doubled', async () => {
    const gw = await consoleGateway();
    // The agent publishes through another replica on the same Redis, which stays up throughout.
    const agentSide = await startGateway({ store: 'redis', redisUrl: inject('redisUrl') });
    onTestFinished(() => agentSide.stop());
    const { page, problems, subscribes } = await openConsole(gw);

    await page.locator('input[name=userId]').fill('alice');
    const sessionId = await startSessionInPage(page);
    await connection(page, 'live');
    const { card, requestId } = await submitInPage(page, 'Plan a trip to Lisbon');
    await shows(card.locator('.badge'), 'queued');

    const publish = async (event: Record<string, unknown>, agent = 'planner', request = requestId) => {
      const response = await graphql<{ publishAgentEvent: { id: string } }>(agentSide.url, PUBLISH, { sessionId, requestId: request, agent, event }, 'alice');
      expect(response.errors).toBeUndefined();
      return response.data!.publishAgentEvent.id;
    };

    await publish({ runStarted: { message: 'Planning the trip' } });
    await publish({ agentStarted: { message: 'Looking for flights' } });
    await publish({ stepStarted: { name: 'search' } });
    await publish({ modelCallStarted: { model: 'gpt-test' } });
    await publish({ modelCallFinished: { model: 'gpt-test', inputTokens: 1200, outputTokens: 300, cost: 0.012, durationMs: 850 } });
    await publish({ toolCallStarted: { toolCallId: 't1', toolName: 'web_search', args: { q: 'Lisbon flights' } } });
    await publish({ toolCallFinished: { toolCallId: 't1', toolName: 'web_search', result: { hits: 3 }, durationMs: 1200 } });
    await publish({ toolCallStarted: { toolCallId: 't2', toolName: 'book_hotel', args: { city: 'Lisbon' } } });
    await publish({ toolCallFinished: { toolCallId: 't2', toolName: 'book_hotel', error: 'hotel API timed out', durationMs: 400 } });
    await publish({ toolCallStarted: { toolCallId: 't3', toolName: 'fetch_weather', args: { city: 'Lisbon' } } });

    // Streamed text grows in the element it started in.
    await publish({ textMessageStarted: { messageId: 'm1', role: 'assistant' } });
    await publish({ textMessageDelta: { messageId: 'm1', delta: 'Lisbon in May ' } });
    const message = card.locator('li[data-message-id="m1"] .message-text');
    await shows(message, 'Lisbon in May');
    const messageNode = await message.elementHandle();
    await publish({ textMessageDelta: { messageId: 'm1', delta: 'is warm ' } });
    await publish({ textMessageDelta: { messageId: 'm1', delta: 'and bright.' } });
    await publish({ textMessageFinished: { messageId: 'm1' } });
    await page.waitForFunction((node) => node.isConnected && node.textContent === 'Lisbon in May is warm and bright.', messageNode);
    await card.locator('li[data-message-id="m1"].done').waitFor();

    await publish({ progress: { percent: 40, message: 'Searching flights' } });
    await publish({ budgetWarning: { spent: 8.5, limit: 10, unit: 'USD' } });
    await publish({ errorReported: { message: 'Provider rate limited us', code: 'PROVIDER_BUSY', retrying: true } });
    await publish({ stateSnapshot: { snapshot: { city: 'Lisbon', nights: 3 } } });
    await publish({ stateDelta: { patch: [{ op: 'replace', path: '/nights', value: 4 }] } });
    await publish({ humanInputRequested: { prompt: 'Which dates suit you?' } });
    await publish({ custom: { name: 'map-pin', value: { lat: 38.72, lon: -9.14 } } });
    await publish({ agentTransferred: { fromAgent: 'planner', toAgent: 'booker' } });
    await publish({ stepFinished: { name: 'search', durationMs: 2000 } });
    const lastBeforeBreak = await publish({ agentFinished: { message: 'Flights found', durationMs: 4200 } });

    // Events render in seq order, so once the last one shows, every one before it has been rendered.
    await card.locator('li[data-span-kind="agent"][data-label="planner"][data-status="done"]').waitFor();
    expect(await span(card, 'agent', 'planner').locator('.duration').textContent()).toBe('4.2 s');
    expect(await span(card, 'run', 'run').getAttribute('data-status')).toBe('running');
    expect(await span(card, 'step', 'search').locator('.duration').textContent()).toBe('2.0 s');
    expect(await span(card, 'model', 'gpt-test').locator('.duration').textContent()).toBe('850 ms');
    expect(await span(card, 'model', 'gpt-test').locator('.usage').textContent()).toBe('1200→300 tokens · cost 0.012');
    expect(await span(card, 'tool', 'web_search').getAttribute('data-status')).toBe('done');
    expect(await span(card, 'tool', 'web_search').locator('.duration').textContent()).toBe('1.2 s');
    expect(await span(card, 'tool', 'web_search').locator('.tool-result').textContent()).toBe('→ {"hits":3}');
    // A failed tool call is red, with its error; the one still running says so.
    const failedTool = span(card, 'tool', 'book_hotel');
    expect(await failedTool.getAttribute('data-status')).toBe('failed');
    expect(await failedTool.locator('.span-error').textContent()).toBe('✖ hotel API timed out');
    expect(await failedTool.locator('.span-error').evaluate((node) => getComputedStyle(node).color)).toBe(RED);
    expect(await span(card, 'tool', 'fetch_weather').locator('.duration').textContent()).toMatch(/^running \d/);

    expect(await card.locator('progress').evaluate((node: HTMLProgressElement) => node.value)).toBe(40);
    expect(await card.locator('.progress-label').textContent()).toBe('40% · Searching flights');
    expect(await card.locator('li[data-kind="budget"]').textContent()).toContain('8.5 of 10 USD spent (85%)');
    const reported = card.locator('li[data-kind="error"]');
    expect(await reported.textContent()).toMatch(/PROVIDER_BUSY.*Provider rate limited us.*retrying/);
    expect(await reported.evaluate((node) => getComputedStyle(node).color)).toBe(RED);
    expect(await card.locator('.state-value').textContent()).toBe('{"city":"Lisbon","nights":4}');
    expect(await card.locator('li[data-kind="patch"] code').textContent()).toBe('replace /nights = 4');
    expect(await card.locator('.waiting').textContent()).toBe('Waiting for your input: Which dates suit you?');
    expect(await card.locator('li[data-kind="custom"]').textContent()).toContain('map-pin {"lat":38.72,"lon":-9.14}');
    expect(await card.locator('li[data-kind="transfer"]').textContent()).toContain('planner → booker');

    // The gateway the page is connected to goes away; the agent carries on through the other replica.
    const port = Number(new URL(gw.url).port);
    await gw.stop();
    await connection(page, 'reconnecting');
    await publish({ progress: { percent: 90, message: 'Booking' } });
    await publish({ toolCallFinished: { toolCallId: 't3', toolName: 'fetch_weather', result: { celsius: 24 }, durationMs: 3000 } });
    await publish({ textMessageStarted: { messageId: 'm2', role: 'assistant' } });
    await publish({ textMessageDelta: { messageId: 'm2', delta: 'Booked: TAP 123.' } });
    await publish({ textMessageFinished: { messageId: 'm2' } });

    // Back on the same address: the page reconnects by itself and asks for what came after the last event it has.
    await consoleGateway({ port });
    await connection(page, 'live');
    await shows(card.locator('li[data-message-id="m2"] .message-text'), 'Booked: TAP 123.');
    expect(subscribes.map((variables) => variables.after)).toEqual([null, lastBeforeBreak]);
    expect(await card.locator('.progress-label').textContent()).toBe('90% · Booking');
    expect(await span(card, 'tool', 'fetch_weather').locator('.duration').textContent()).toBe('3.0 s');

    // Live again after the resume.
    await publish({
      runFinished: { result: { itinerary: ['Fly TAP 123', 'Hotel in Alfama'] }, inputTokens: 5400, outputTokens: 900, cost: 0.31, durationMs: 65_000 },
    });
    await card.locator('.result').waitFor();
    expect(JSON.parse((await card.locator('.result-value').textContent())!)).toEqual({ itinerary: ['Fly TAP 123', 'Hotel in Alfama'] });
    expect(await card.locator('.result-usage').textContent()).toBe('5400 tokens in · 900 tokens out · cost 0.31 · took 1 min 05 s');
    expect(await card.locator('progress').evaluate((node: HTMLProgressElement) => node.value)).toBe(100);
    expect(await card.locator('.badge').textContent()).toBe('finished');
    expect(await card.locator('.waiting').count()).toBe(0);

    // A second request, which fails: in red.
    const second = await submitInPage(page, 'Book a table for two');
    await publish({ runStarted: {} }, 'booker', second.requestId);
    await publish({ runFailed: { message: 'No tables left', code: 'SOLD_OUT', retryable: true } }, 'booker', second.requestId);
    const failure = second.card.locator('.failure');
    await shows(failure, 'No tables left');
    expect(await failure.textContent()).toBe('Run failed (SOLD_OUT): No tables left · submitting it again may work');
    expect(await failure.evaluate((node) => getComputedStyle(node).color)).toBe(RED);

    await page.getByRole('button', { name: 'End session' }).click();
    await connection(page, 'ended');
    await shows(page.locator('.session-status'), 'ended');

    // Every event exactly once: the raw log holds seq 1, 2, 3 … to the last, and the model dropped no duplicate.
    const seqs = (await page.locator('.event-log tr[data-ephemeral="false"]').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-seq')))));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(seqs.at(-1)).toBeGreaterThan(35);
    expect(await page.locator('.event-log tr[data-type="SESSION_ENDED"]').count()).toBe(1);
    expect(await page.locator('.duplicates').textContent()).toBe('0');
    expect(await card.locator('li[data-message-id="m1"] .message-text').textContent()).toBe('Lisbon in May is warm and bright.');
    expect(await card.locator('li[data-message-id="m2"] .message-text').textContent()).toBe('Booked: TAP 123.');
    // One entry per run, agent, step, model and tool call, however many events each took.
    expect(await card.locator('li[data-kind="span"]').count()).toBe(7);
    await saveScreenshot(page, 'console');
    expect(problems).toEqual([]);
  });

  it('reloads what history still holds when the events it missed are gone, says so, and goes on live', async () => {
    // The memory store keeps exactly the last 10 events of a session.
    const gw = await startGateway({ store: 'memory', config: { historyMaxEvents: 10 }, consoleDir });
    onTestFinished(() => gw.stop());
    const { page, problems, subscribes, cut, restore } = await openConsole(gw);
    await page.locator('input[name=userId]').fill('alice');
    const sessionId = await startSessionInPage(page);
    const { card, requestId } = await submitInPage(page, 'Watch the history roll over');
    const publish = async (event: Record<string, unknown>) => {
      const response = await graphql<{ publishAgentEvent: { id: string } }>(gw.url, PUBLISH, { sessionId, requestId, agent: 'planner', event }, 'alice');
      expect(response.errors).toBeUndefined();
      return response.data!.publishAgentEvent.id;
    };
    const third = await publish({ progress: { percent: 1, message: 'first' } });
    await shows(card.locator('.progress-label'), 'first');

    // Cut off while more events come than the history keeps: the page's cursor (seq 3) falls out of it.
    await cut();
    await connection(page, 'reconnecting');
    let last = '';
    for (let i = 1; i <= 15; i += 1) last = await publish({ progress: { percent: i * 5, message: `step ${i}` } });
    restore();

    // The resume gets CURSOR_EXPIRED: the page reloads the ten kept (seq 9 to 18) and follows on after them.
    await shows(page.locator('.reloaded'), 'events before seq 9 are no longer retained');
    await connection(page, 'live');
    await publish({ progress: { percent: 100, message: 'live again' } });
    await shows(page.locator('article.request .progress-label'), 'live again');
    const seqs = await page.locator('.event-log tr').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-seq'))));
    expect(seqs).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(await page.locator('.duplicates').textContent()).toBe('0');
    expect(subscribes.map((variables) => variables.after)).toEqual([null, third, last]);
    expect(problems).toEqual([]);
  });

  it('with authentication on, acts as the token pasted into it', async () => {
    const gw = await consoleGateway({ auth: { secret: JWT_SECRET, roleClaim: 'role', agentRole: 'agent' }, publishTokenSecret: PUBLISH_TOKEN_SECRET });
    const { page, problems } = await openConsole(gw);

    // Without a token the gateway refuses, and the page says so in red.
    await page.getByRole('button', { name: 'Start session' }).click();
    const notice = page.locator('.notice.error');
    await shows(notice, 'UNAUTHENTICATED');
    expect(await notice.evaluate((node) => getComputedStyle(node).color)).toBe(RED);

    await page.locator('input[name=token]').fill(await mintJwt(hs256Key(JWT_SECRET), { sub: 'alice' }));
    await startSessionInPage(page);
    await connection(page, 'live');
    // The session is alice's: its history (SESSION_STARTED) reached the page over the WebSocket.
    expect(await page.locator('.event-log tr[data-type="SESSION_STARTED"]').count()).toBe(1);
    const { card } = await submitInPage(page, 'Authenticated request');
    expect(await card.locator('.badge').textContent()).toBe('queued');
    // Kept for this tab only.
    expect(await page.evaluate(() => sessionStorage.getItem('apg-console.token'))).toMatch(/^ey/);
    expect(problems).toEqual([]);
  });
});
