/**
 * An agent worker's progress reporting with `agent-progress-gateway/agent`: given a job popped from the request
 * queue (its JSON as the first argument), it reports a short run with the job's own publish token.
 *
 *   npx tsx examples/agent/report-progress.ts "$(redis-cli LPOP queue:agent-requests)"
 */
import { AgentPublishError, createAgentPublisher } from 'agent-progress-gateway/agent';

interface Job {
  sessionId: string;
  requestId: string;
  input: unknown;
  publishToken: string;
}

export async function reportRun(job: Job, url = process.env['GATEWAY_URL'] ?? 'http://localhost:4000/graphql'): Promise<void> {
  const progress = createAgentPublisher({ url, token: job.publishToken, sessionId: job.sessionId, requestId: job.requestId, agent: 'example' });
  try {
    await progress.runStarted({ message: 'Looking into it' });
    await progress.toolCallStarted({ toolCallId: 'search-1', toolName: 'web_search', args: { query: job.input } });
    await progress.toolCallFinished({ toolCallId: 'search-1', toolName: 'web_search', result: { hits: 3 }, durationMs: 420 });
    await progress.textMessageStarted({ messageId: 'answer', role: 'assistant' });
    // Token by token, as a model streams, without waiting for each: coalesced into a few publishes, in order.
    const deltas = ['Three ', 'sources ', 'agree.'].map((delta) => progress.textMessageDelta({ messageId: 'answer', delta }));
    await Promise.all([...deltas, progress.textMessageFinished({ messageId: 'answer' })]);
    await progress.runFinished({ result: { answer: 'Three sources agree.' } });
  } catch (error) {
    if (error instanceof AgentPublishError && !error.retryable) console.error(`refused (${error.code}): ${error.message}`);
    throw error;
  } finally {
    await progress.close();
  }
}

if (process.argv[2]) await reportRun(JSON.parse(process.argv[2]) as Job);
