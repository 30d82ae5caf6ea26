import { useEffect, useRef, useState } from 'preact/hooks';
import { END_SESSION, START_SESSION, SUBMIT_REQUEST } from './documents';
import { followSession, request, type ConnectionStatus, type Identity } from './gateway';
import { compact, SessionModel, type Entry, type LogLine, type RequestView, type Span } from './model';

/** The tab's identity survives a reload but not the tab: a token should not outlive the session it was pasted into. */
const stored = {
  get: (name: keyof Identity) => sessionStorage.getItem(`apg-console.${name}`) ?? '',
  set: (name: keyof Identity, value: string) => sessionStorage.setItem(`apg-console.${name}`, value),
};

/** `#session=<id>` in the address: a reload (or a shared link) follows the same session again. */
function sessionOfHash(): string | undefined {
  return new URLSearchParams(location.hash.slice(1)).get('session') ?? undefined;
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1_000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/** Long generated ids (UUIDs) cut to their start, as git shortens hashes; the whole id is in the tooltip. */
function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

function offset(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1_000));
  return `+${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** Re-renders every second while something is running, so running durations count up. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [active]);
  return active ? Math.max(now, Date.now()) : now;
}

const STATUS_TEXT: Record<ConnectionStatus, string> = {
  idle: 'not following',
  connecting: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting',
  reloading: 'reloading history',
  ended: 'session ended',
  failed: 'stopped',
};

export function App() {
  const [token, setToken] = useState(() => stored.get('token'));
  const [userId, setUserId] = useState(() => stored.get('userId'));
  const [sessionInput, setSessionInput] = useState(() => sessionOfHash() ?? '');
  const [prompt, setPrompt] = useState('Plan a three-day trip to Lisbon');
  const [status, setStatus] = useState<{ status: ConnectionStatus; detail?: string | undefined }>({ status: 'idle' });
  const [notice, setNotice] = useState<{ text: string; error: boolean } | undefined>();
  const [, setVersion] = useState(0);
  const model = useRef<SessionModel | undefined>(undefined);
  const stop = useRef<() => void>(() => {});
  const identity = useRef<Identity>({ token, userId });
  identity.current = { token, userId };

  const running = model.current?.requests.some((r) => r.entries.some((e) => e.kind === 'span' && e.span.status === 'running')) ?? false;
  const now = useNow(running);
  const rerender = () => setVersion((version) => version + 1);

  function follow(sessionId: string) {
    stop.current();
    model.current = new SessionModel(sessionId);
    history.replaceState(null, '', `#session=${encodeURIComponent(sessionId)}`);
    setSessionInput(sessionId);
    rerender();
    stop.current = followSession({
      sessionId,
      identity: () => identity.current,
      lastId: () => model.current?.lastId,
      onEvent: (event) => {
        // Rendered either way: a dropped duplicate changes the count shown.
        model.current?.apply(event);
        rerender();
      },
      onReset: () => {
        model.current = new SessionModel(sessionId, true);
        rerender();
      },
      onStatus: (next, detail) => setStatus({ status: next, detail }),
    });
  }

  useEffect(() => {
    const fromHash = sessionOfHash();
    if (fromHash) follow(fromHash);
    return () => stop.current();
  }, []);

  async function act(what: () => Promise<string>) {
    try {
      setNotice({ text: await what(), error: false });
    } catch (error) {
      const code = (error as { code?: string }).code;
      setNotice({ text: `${code ? `${code}: ` : ''}${(error as Error).message}`, error: true });
    }
  }

  const startSession = () =>
    act(async () => {
      const { startSession: session } = await request<{ startSession: { id: string } }>(START_SESSION, { sessionId: sessionInput.trim() || null }, identity.current);
      follow(session.id);
      return `Session ${session.id} started.`;
    });

  const followTyped = () =>
    act(async () => {
      if (!sessionInput.trim()) throw new Error('Type the id of a session to follow.');
      follow(sessionInput.trim());
      return `Following session ${sessionInput.trim()}.`;
    });

  const submit = () =>
    act(async () => {
      const sessionId = model.current?.sessionId;
      if (!sessionId) throw new Error('Start or follow a session first.');
      const { submitRequest } = await request<{ submitRequest: { id: string } }>(SUBMIT_REQUEST, { sessionId, input: { prompt } }, identity.current);
      return `Request ${submitRequest.id} queued.`;
    });

  const endSession = () =>
    act(async () => {
      const sessionId = model.current?.sessionId;
      if (!sessionId) throw new Error('Start or follow a session first.');
      await request(END_SESSION, { sessionId }, identity.current);
      return `Session ${sessionId} ended.`;
    });

  const session = model.current;
  return (
    <>
      <header class="top">
        <h1>Agent Progress Console</h1>
        <span class="connection" data-status={status.status} title={status.detail ?? ''}>
          ● {STATUS_TEXT[status.status]}
          {status.detail && status.status !== 'live' ? <small> — {status.detail}</small> : null}
        </span>
      </header>

      <section class="controls">
        <fieldset>
          <legend>Identity</legend>
          <label>
            Token <small>(JWT, when authentication is on)</small>
            <input
              name="token"
              type="password"
              autocomplete="off"
              value={token}
              onInput={(e) => (setToken(e.currentTarget.value), stored.set('token', e.currentTarget.value))}
            />
          </label>
          <label>
            User id <small>(development mode; empty is “dev”)</small>
            <input name="userId" value={userId} onInput={(e) => (setUserId(e.currentTarget.value), stored.set('userId', e.currentTarget.value))} />
          </label>
        </fieldset>
        <fieldset>
          <legend>Session</legend>
          <label>
            Session id <small>(empty: the gateway makes one)</small>
            <input name="sessionId" value={sessionInput} onInput={(e) => setSessionInput(e.currentTarget.value)} />
          </label>
          <div class="buttons">
            <button type="button" onClick={startSession}>Start session</button>
            <button type="button" onClick={followTyped}>Follow</button>
            <button type="button" onClick={endSession} disabled={!session || session.sessionStatus === 'ended'}>
              End session
            </button>
          </div>
        </fieldset>
        <fieldset>
          <legend>Request</legend>
          <label>
            Prompt
            <textarea name="prompt" rows={2} value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} />
          </label>
          <div class="buttons">
            <button type="button" onClick={submit} disabled={!session || session.sessionStatus === 'ended'}>
              Submit request
            </button>
          </div>
        </fieldset>
      </section>
      {notice ? <p class={`notice${notice.error ? ' error' : ''}`}>{notice.text}</p> : null}

      {session ? (
        <main>
          <p class="session" data-session-id={session.sessionId}>
            Session <code class="session-id">{session.sessionId}</code> · <span class="session-status">{session.sessionStatus}</span>
            {session.endReason ? ` (${session.endReason})` : ''} · <span class="received">{session.received}</span> events · last seq{' '}
            <span class="last-seq">{session.lastSeq}</span> · <span class="duplicates">{session.duplicates}</span> duplicates dropped
            {session.gaps > 0 ? <span class="error"> · {session.gaps} gaps</span> : null}
            {session.reloaded ? (
              <span class="reloaded">
                {' '}
                · reloaded after a disconnection: events before seq {session.firstSeq ?? session.lastSeq + 1} are no longer retained
              </span>
            ) : null}
          </p>
          {[...session.requests].reverse().map((view) => (
            <RequestCard key={view.id} view={view} now={now} />
          ))}
          <EventLog lines={session.log} />
        </main>
      ) : (
        <p class="hint">Start a session (or follow one by id), submit a request, and watch what the agents publish.</p>
      )}
    </>
  );
}

function RequestCard({ view, now }: { view: RequestView; now: number }) {
  const prompt = typeof view.input === 'object' && view.input !== null && 'prompt' in view.input ? String(view.input.prompt) : undefined;
  const percent = view.status === 'finished' ? 100 : view.progress?.percent;
  return (
    <article class={`request status-${view.status}`} data-request-id={view.id}>
      <header>
        <h2>
          {view.id ? (
            <>
              Request <code class="request-id">{view.id}</code>
            </>
          ) : (
            'Session-wide events'
          )}
        </h2>
        <span class="badge" data-status={view.status}>
          {view.status}
        </span>
        {prompt !== undefined ? <q class="prompt">{prompt}</q> : view.input !== undefined ? <code>{compact(view.input)}</code> : null}
      </header>

      {view.id && (view.progress || view.status === 'running' || view.status === 'finished') ? (
        <div class="progress">
          <progress max={100} {...(percent === undefined ? {} : { value: percent })} />
          <span class="progress-label">
            {percent === undefined ? '' : `${Math.round(percent)}%`}
            {view.progress?.message ? ` · ${view.progress.message}` : ''}
          </span>
        </div>
      ) : null}

      {view.waitingFor !== undefined ? <p class="waiting">Waiting for your input: {view.waitingFor}</p> : null}
      {view.failure ? (
        <p class="failure error">
          Run failed{view.failure.code ? ` (${view.failure.code})` : ''}: {view.failure.message}
          {view.failure.retryable ? ' · submitting it again may work' : ''}
        </p>
      ) : null}
      {view.result ? (
        <div class="result">
          <strong>Result</strong>
          <pre class="result-value">{JSON.stringify(view.result.result, null, 2)}</pre>
          <span class="result-usage">
            {[
              view.result.inputTokens !== undefined ? `${view.result.inputTokens} tokens in` : undefined,
              view.result.outputTokens !== undefined ? `${view.result.outputTokens} tokens out` : undefined,
              view.result.cost !== undefined ? `cost ${view.result.cost}` : undefined,
              view.result.durationMs !== undefined ? `took ${formatDuration(view.result.durationMs)}` : undefined,
            ]
              .filter(Boolean)
              .join(' · ')}
          </span>
        </div>
      ) : null}

      <ol class="feed">
        {view.entries.map((entry) => (
          <FeedEntry key={entry.key} entry={entry} start={view.firstAt} now={now} />
        ))}
      </ol>

      {view.state ? (
        <details class="state">
          <summary>
            Shared state{view.state.patches ? ` (snapshot + ${view.state.patches} patches)` : ''}
            {view.state.unapplied ? <span class="error"> · {view.state.unapplied} patches could not be applied</span> : null}:{' '}
            <code class="state-value">{compact(view.state.value, 120)}</code>
          </summary>
          <pre>{JSON.stringify(view.state.value, null, 2)}</pre>
        </details>
      ) : null}
    </article>
  );
}

function SpanLine({ span, now }: { span: Span; now: number }) {
  const elapsed =
    span.status === 'running' && span.startedAt !== undefined ? `running ${formatDuration(now - span.startedAt)}` : span.durationMs !== undefined ? formatDuration(span.durationMs) : '';
  const usage = [
    span.inputTokens !== undefined ? `${span.inputTokens}→${span.outputTokens ?? '?'} tokens` : undefined,
    span.cost !== undefined ? `cost ${span.cost}` : undefined,
  ].filter(Boolean);
  return (
    <>
      <span class="kind">{span.kind}</span> <span class="label">{span.label}</span>
      {span.agent && span.kind !== 'agent' ? <span class="agent">{span.agent}</span> : null}
      <span class={`duration ${span.status}`}>{span.status === 'unfinished' ? 'did not finish' : elapsed}</span>
      {span.detail ? <span class="detail">{span.detail}</span> : null}
      {span.args !== undefined && span.args !== null ? <code class="args">{compact(span.args, 100)}</code> : null}
      {span.result !== undefined && span.result !== null && span.kind === 'tool' ? <code class="tool-result">→ {compact(span.result, 100)}</code> : null}
      {span.error ? <span class="error span-error">✖ {span.error}</span> : null}
      {usage.length ? <span class="usage">{usage.join(' · ')}</span> : null}
    </>
  );
}

function FeedEntry({ entry, start, now }: { entry: Entry; start: number; now: number }) {
  const at = <time class="at">{offset(entry.at - start)}</time>;
  switch (entry.kind) {
    case 'span':
      return (
        <li class={`entry span depth-${entry.span.kind} ${entry.span.status}${entry.span.status === 'failed' ? ' error' : ''}`} data-kind="span" data-span-kind={entry.span.kind} data-label={entry.span.label} data-status={entry.span.status}>
          {at}
          <SpanLine span={entry.span} now={now} />
        </li>
      );
    case 'text':
      return (
        <li class={`entry text${entry.message.done ? ' done' : ' streaming'}`} data-kind="text" data-message-id={entry.message.messageId}>
          {at}
          <span class="who">{[entry.message.agent, entry.message.role].filter(Boolean).join(' · ') || 'message'}</span>
          <span class="message-text">{entry.message.text}</span>
          {entry.message.done ? null : <span class="cursor">▍</span>}
        </li>
      );
    case 'transfer':
      return (
        <li class="entry transfer" data-kind="transfer">
          {at}
          <span class="kind">handoff</span> {entry.from} → {entry.to}
        </li>
      );
    case 'budget':
      return (
        <li class="entry budget warning" data-kind="budget">
          {at}
          <span class="kind">budget</span>
          {`${entry.spent} of ${entry.limit}${entry.unit ? ` ${entry.unit}` : ''} spent`}
          {entry.limit > 0 ? ` (${Math.round((entry.spent / entry.limit) * 100)}%)` : ''}
        </li>
      );
    case 'error':
      return (
        <li class="entry reported-error error" data-kind="error">
          {at}
          <span class="kind">error</span>
          {entry.code ? <code>{entry.code}</code> : null} {entry.message}
          {entry.retrying ? <span class="retrying"> · retrying</span> : null}
          {entry.agent ? <span class="agent">{entry.agent}</span> : null}
        </li>
      );
    case 'human-input':
      return (
        <li class="entry human-input" data-kind="human-input">
          {at}
          <span class="kind">input needed</span> {entry.prompt}
        </li>
      );
    case 'snapshot':
      return (
        <li class="entry state-entry" data-kind="snapshot">
          {at}
          <span class="kind">state</span> <code>{compact(entry.snapshot, 120)}</code>
        </li>
      );
    case 'patch':
      return (
        <li class="entry state-entry" data-kind="patch">
          {at}
          <span class="kind">state patch</span>{' '}
          <code>
            {entry.patch
              .map((op) => {
                const { op: name, path, from, value } = (op ?? {}) as Record<string, unknown>;
                return `${String(name)} ${from !== undefined ? `${String(from)} → ` : ''}${String(path)}${value !== undefined ? ` = ${compact(value, 40)}` : ''}`;
              })
              .join('; ')}
          </code>
        </li>
      );
    case 'custom':
      return (
        <li class="entry custom" data-kind="custom">
          {at}
          <span class="kind">{entry.name}</span> <code>{compact(entry.value, 120)}</code>
        </li>
      );
    case 'other':
      return (
        <li class="entry other" data-kind="other">
          {at}
          <span class="kind">{entry.type}</span> <code>{compact(entry.fields, 120)}</code>
        </li>
      );
  }
}

function EventLog({ lines }: { lines: LogLine[] }) {
  return (
    <details class="event-log" open>
      <summary>Events (the last {lines.length}, oldest first)</summary>
      <table>
        <tbody>
          {lines.map((line) => (
            <tr key={line.key} data-seq={line.seq} data-type={line.type} data-ephemeral={String(line.ephemeral)}>
              <td class="seq">{line.ephemeral ? `${line.seq}*` : line.seq}</td>
              <td>{new Date(line.at).toLocaleTimeString(undefined, { hour12: false })}</td>
              <td class="type">{line.type}</td>
              <td title={line.requestId ?? ''}>{line.requestId ? shortId(line.requestId) : ''}</td>
              <td>{line.agent ?? ''}</td>
              <td class="summary">{line.summary}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
