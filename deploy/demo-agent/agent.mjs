// A tiny agent worker for the `demo` profile of docker-compose.yml. It takes the jobs `submitRequest` queues
// (BLPOP on REQUEST_QUEUE_KEY) and reports a short run for each through the gateway, with the publish token the
// job carries: no agent credential of its own. Plain JavaScript on purpose: it runs as is on the gateway image.
//
//   REDIS_URL=redis://127.0.0.1:6379 GATEWAY_URL=http://127.0.0.1:4000/graphql node deploy/demo-agent/agent.mjs
//
// REQUEST_QUEUE_KEY (default queue:agent-requests) must match the gateway's; DEMO_STEP_MS (default 1000) paces the run.
import { Redis } from 'ioredis';

const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const gatewayUrl = process.env.GATEWAY_URL || 'http://127.0.0.1:4000/graphql';
const queueKey = process.env.REQUEST_QUEUE_KEY || 'queue:agent-requests';
const stepMs = Number(process.env.DEMO_STEP_MS ?? 1000);
const AGENT = 'demo-agent';

const PUBLISH = `mutation ($sessionId: ID!, $requestId: ID, $agent: String, $event: AgentEventInput!) {
  publishAgentEvent(sessionId: $sessionId, requestId: $requestId, agent: $agent, event: $event) { seq }
}`;

function log(msg, fields = {}) {
  console.log(JSON.stringify({ time: new Date().toISOString(), agent: AGENT, msg, ...fields }));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The run reported for a job: one variant of AgentEventInput per event. */
function runFor(job) {
  return [
    { runStarted: { message: `Working on ${JSON.stringify(job.input).slice(0, 60)}` } },
    { progress: { percent: 10, message: 'Planning' } },
    { toolCallStarted: { toolCallId: 'search-1', toolName: 'web_search', args: { q: 'agent progress demo' } } },
    { toolCallFinished: { toolCallId: 'search-1', toolName: 'web_search', result: { hits: 3 }, durationMs: stepMs } },
    { progress: { percent: 80, message: 'Writing the answer' } },
    { runFinished: { result: { answer: 'This was a demo run.' } } },
  ];
}

/** Publishes one event with the job's publish token; a GraphQL error ends the job (its code says why). */
async function publish(job, event) {
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${job.publishToken}` },
    body: JSON.stringify({ query: PUBLISH, variables: { sessionId: job.sessionId, requestId: job.requestId, agent: AGENT, event } }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.json();
  if (body.errors?.length) throw new Error(`publish refused: ${body.errors.map((error) => error.extensions?.code ?? error.message).join(', ')}`);
}

async function work(job) {
  log('job started', { sessionId: job.sessionId, requestId: job.requestId });
  for (const event of runFor(job)) {
    await publish(job, event);
    await sleep(stepMs);
  }
  log('job finished', { sessionId: job.sessionId, requestId: job.requestId });
}

// BLPOP blocks for as long as the queue is empty; no retry limit, so it waits out a Redis restart.
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
redis.on('error', (err) => log('redis error', { err: err.message }));

let stopping = false;
const stop = () => {
  stopping = true;
  redis.disconnect(); // ends a waiting BLPOP; a job under way finishes first
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

log('waiting for jobs', { queueKey, gatewayUrl });
while (!stopping) {
  let popped;
  try {
    popped = await redis.blpop(queueKey, 0);
  } catch (err) {
    if (stopping) break;
    log('blpop failed', { err: err.message });
    await sleep(1000);
    continue;
  }
  if (!popped) continue;
  try {
    const job = JSON.parse(popped[1]);
    if (!job.publishToken) throw new Error('the job carries no publishToken');
    await work(job);
  } catch (err) {
    log('job failed', { err: err.message });
  }
}
log('stopped');
