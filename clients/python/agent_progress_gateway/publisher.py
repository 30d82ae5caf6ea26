"""Publishing agent events to the gateway over HTTP: the `publishAgentEvent` and `publishAgentEvents` mutations.

`Publisher` sends one call at a time and returns the stored event(s). Every call carries an idempotency key (a
uuid4, or yours) that its retries reuse, so a retry after a lost answer never stores an event twice: within the
gateway's IDEMPOTENCY_WINDOW_SECONDS the same key answers the original event. Network errors, `UNAVAILABLE` and
`RATE_LIMITED` (after `extensions.retryAfterMs`) are retried with backoff; every other refusal raises `GatewayError`.

`BackgroundPublisher` queues events and sends them from one thread, in order, batching what piles up while a call
is in flight into one `publishAgentEvents` call and merging consecutive text deltas of one message. Its `publish`
never blocks and never raises: what an agent framework's callbacks need.
"""
from __future__ import annotations

import atexit
import http.client
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

from .events import AgentEventInput, VariantMethods, text_message_delta

log = logging.getLogger("agent_progress_gateway")

AgentEvent = Dict[str, Any]
"""A published event as the gateway answers it: id, seq, type, sessionId, requestId, agent, timestamp."""

Token = Union[str, Callable[[], str], None]

_EVENT_FIELDS = "id seq type sessionId requestId agent timestamp"
PUBLISH_ONE = (
    "mutation PublishAgentEvent($sessionId: ID!, $requestId: ID, $agent: String, $event: AgentEventInput!, "
    "$idempotencyKey: String) { publishAgentEvent(sessionId: $sessionId, requestId: $requestId, agent: $agent, "
    f"event: $event, idempotencyKey: $idempotencyKey) {{ {_EVENT_FIELDS} }} }}"
)
PUBLISH_MANY = (
    "mutation PublishAgentEvents($sessionId: ID!, $requestId: ID, $agent: String, $events: [AgentEventInput!]!, "
    "$idempotencyKey: String) { publishAgentEvents(sessionId: $sessionId, requestId: $requestId, agent: $agent, "
    f"events: $events, idempotencyKey: $idempotencyKey) {{ {_EVENT_FIELDS} }} }}"
)

RETRYABLE_CODES = frozenset({"UNAVAILABLE", "RATE_LIMITED"})
"""Codes after which nothing was published and the same call may succeed later."""

NETWORK_ERROR = "NETWORK_ERROR"
"""The code of a `GatewayError` made by this client: no answer (connection refused or reset, timeout) after every retry."""

MAX_DELTA_CHARS = 32_768
"""Longest `TextMessageDelta.delta` the gateway takes (characters)."""

_UNSET: Any = object()


class GatewayError(Exception):
    """The gateway refused a call (`code` is its `extensions.code`), or could not be reached (`NETWORK_ERROR`).

    `published` holds the events a `publish_many` stored before the refusal (its earlier batches); `[]` otherwise.
    """

    def __init__(self, code: str, message: str, extensions: Optional[Dict[str, Any]] = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.extensions: Dict[str, Any] = dict(extensions or {})
        self.published: List[AgentEvent] = []


@dataclass(frozen=True)
class Retry:
    """How a call is retried: exponential backoff with jitter, within `attempts` tries and `deadline` seconds.

    Keep `deadline` well inside the gateway's IDEMPOTENCY_WINDOW_SECONDS (600 by default): a retry after the window
    could store the event a second time.
    """

    attempts: int = 8
    initial_delay: float = 0.1
    max_delay: float = 5.0
    deadline: float = 60.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1, 2, …): half fixed, half random, so retries spread out."""
        base = min(self.max_delay, self.initial_delay * (2 ** (attempt - 1)))
        return base / 2 + random.uniform(0, base / 2)


class _Retryable(Exception):
    """A failed try that may be retried; `error` is what to raise when the retries run out."""

    def __init__(self, error: GatewayError, retry_after: Optional[float] = None):
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


class Publisher(VariantMethods):
    """Publishes events to one session of the gateway at `url` (e.g. `http://localhost:4000/graphql`).

    Credentials: `token` (a JWT with the agent role, or the session-scoped `publishToken` of a job or session) goes
    as `Authorization: Bearer <token>`; pass a callable to fetch a fresh token for every try. In development mode
    the gateway also takes `user_id` (sent as `x-user-id`). `request_id` and `agent` fill the envelope of every event
    unless a call overrides them; `bind()` makes a publisher with other defaults.

    Every variant is a method too: `publisher.progress(40, "Searching")` publishes `progress(40, "Searching")`.
    """

    def __init__(
        self,
        url: str,
        session_id: str,
        *,
        token: Token = None,
        user_id: Optional[str] = None,
        request_id: Optional[str] = None,
        agent: Optional[str] = None,
        timeout: float = 10.0,
        retry: Retry = Retry(),
        max_batch: int = 100,
        max_batch_bytes: int = 512 * 1024,
        headers: Optional[Dict[str, str]] = None,
    ):
        self.url = url
        self.session_id = session_id
        self.token = token
        self.user_id = user_id
        self.request_id = request_id
        self.agent = agent
        self.timeout = timeout
        self.retry = retry
        # MAX_PUBLISH_BATCH of the gateway (100 by default); and a body well under its MAX_REQUEST_BYTES (1 MiB).
        self.max_batch = max_batch
        self.max_batch_bytes = max_batch_bytes
        self.headers = dict(headers or {})

    def bind(self, *, request_id: Optional[str] = _UNSET, agent: Optional[str] = _UNSET) -> "Publisher":
        """The same publisher with other default `request_id` and/or `agent`."""
        other = type(self).__new__(type(self))
        other.__dict__.update(self.__dict__)
        if request_id is not _UNSET:
            other.request_id = request_id
        if agent is not _UNSET:
            other.agent = agent
        return other

    def publish(
        self,
        event: AgentEventInput,
        *,
        request_id: Optional[str] = _UNSET,
        agent: Optional[str] = _UNSET,
        idempotency_key: Optional[str] = None,
    ) -> AgentEvent:
        """Publishes one event (e.g. `events.progress(40)`) and returns it as stored: `{"id", "seq", "type", …}`.

        Raises `GatewayError` when the gateway refuses it, or cannot be reached within the retries.
        """
        variables = self._envelope(request_id, agent)
        variables.update(event=event, idempotencyKey=idempotency_key or new_idempotency_key())
        return self._call(PUBLISH_ONE, variables, "publishAgentEvent")

    def publish_many(
        self,
        events: Iterable[AgentEventInput],
        *,
        request_id: Optional[str] = _UNSET,
        agent: Optional[str] = _UNSET,
        idempotency_key: Optional[str] = None,
    ) -> List[AgentEvent]:
        """Publishes a burst of events with `publishAgentEvents`: in order, with consecutive seqs.

        The events go in batches of at most `max_batch` events and `max_batch_bytes` of JSON; each batch is stored
        atomically (all or none) under its own idempotency key (`<idempotency_key>.<n>` when you give one).
        If a batch is refused, the `GatewayError` carries the events already stored in `published`.
        """
        envelope = self._envelope(request_id, agent)
        published: List[AgentEvent] = []
        for number, batch in enumerate(self._batches(list(events))):
            key = new_idempotency_key() if idempotency_key is None else f"{idempotency_key[:118]}.{number}"
            try:
                published += self._call(PUBLISH_MANY, {**envelope, "events": batch, "idempotencyKey": key}, "publishAgentEvents")
            except GatewayError as error:
                error.published = published
                raise
        return published

    # -- internals ---------------------------------------------------------------------------------------------

    def _envelope(self, request_id: Optional[str], agent: Optional[str]) -> Dict[str, Any]:
        return {
            "sessionId": self.session_id,
            "requestId": self.request_id if request_id is _UNSET else request_id,
            "agent": self.agent if agent is _UNSET else agent,
        }

    def _batches(self, events: List[AgentEventInput]) -> Iterable[List[AgentEventInput]]:
        batch: List[AgentEventInput] = []
        size = 0
        for event in events:
            event_bytes = len(json.dumps(event, separators=(",", ":")).encode())
            if batch and (len(batch) >= self.max_batch or size + event_bytes > self.max_batch_bytes):
                yield batch
                batch, size = [], 0
            batch.append(event)
            size += event_bytes
        if batch:
            yield batch

    def _call(self, query: str, variables: Dict[str, Any], field: str) -> Any:
        # Serialised once: every retry sends exactly the same body, as an idempotency key demands.
        body = json.dumps({"query": query, "variables": variables}, separators=(",", ":"), allow_nan=False).encode()
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._try(body, field)
            except _Retryable as failure:
                wait = self.retry.delay(attempt)
                if failure.retry_after is not None:
                    # The gateway said when: wait that long, plus a little so concurrent publishers spread out.
                    wait = failure.retry_after * random.uniform(1.0, 1.1)
                out_of_time = time.monotonic() + wait - started > self.retry.deadline
                if attempt >= self.retry.attempts or out_of_time:
                    raise failure.error from failure.__cause__
                log.info("publish failed (%s), retry %d in %.2f s", failure.error.code, attempt, wait)
                time.sleep(wait)

    def _try(self, body: bytes, field: str) -> Any:
        headers = {
            "content-type": "application/json",
            "accept": "application/graphql-response+json, application/json;q=0.9",
            **self.headers,
        }
        token = self.token() if callable(self.token) else self.token
        if token:
            headers["authorization"] = f"Bearer {token}"
        if self.user_id:
            headers["x-user-id"] = self.user_id
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, content_type, payload = response.status, response.headers.get("content-type", ""), response.read()
        except urllib.error.HTTPError as error:
            # A GraphQL error may come with a 4xx/5xx status (e.g. 503 UNAVAILABLE while a replica drains).
            status, content_type = error.code, error.headers.get("content-type", "") if error.headers else ""
            try:
                payload = error.read()
            except (OSError, http.client.HTTPException) as cause:
                raise _Retryable(GatewayError(NETWORK_ERROR, f"HTTP {status}, body lost: {cause}")) from cause
            if "json" not in content_type:
                failure = GatewayError(f"HTTP_{status}", f"HTTP {status} without a GraphQL answer")
                if status in (429, 502, 503, 504):  # a proxy or load balancer in front: nothing reached the gateway
                    raise _Retryable(failure, _retry_after_header(error.headers)) from error
                raise failure from error
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            # Refused, reset, timed out, or cut before the answer: the event may or may not be stored; the retry's
            # idempotency key makes the gateway answer the original if it was.
            reason = getattr(error, "reason", error)
            raise _Retryable(GatewayError(NETWORK_ERROR, f"{type(reason).__name__}: {reason}")) from error
        try:
            answer = json.loads(payload)
        except ValueError as error:
            raise GatewayError(f"HTTP_{status}", "the answer is not JSON") from error
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if errors:
            first = errors[0] if isinstance(errors[0], dict) else {}
            extensions = first.get("extensions") or {}
            failure = GatewayError(str(extensions.get("code", "UNKNOWN")), str(first.get("message", "")), extensions)
            if failure.code in RETRYABLE_CODES:
                retry_after_ms = extensions.get("retryAfterMs")
                retry_after = retry_after_ms / 1000 if isinstance(retry_after_ms, (int, float)) else None
                raise _Retryable(failure, retry_after)
            raise failure
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict) or data.get(field) is None:
            raise GatewayError("UNKNOWN", f"no {field} in the answer")
        return data[field]


def _retry_after_header(headers: Any) -> Optional[float]:
    value = headers.get("retry-after") if headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


@dataclass
class _Item:
    event: AgentEventInput
    request_id: Optional[str]
    agent: Optional[str]
    future: "Future[AgentEvent]"
    queued_at: float


# Refusals of a batch that may concern only some of its events: the batch is sent again one event at a time.
_SPLIT_ON = frozenset({"BAD_USER_INPUT", "PAYLOAD_TOO_LARGE", "BATCH_TOO_LARGE", "REQUEST_ENTITY_TOO_LARGE", "HTTP_413"})


class BackgroundPublisher(VariantMethods):
    """Sends events through `publisher` from a background thread, in the order they were given.

    `publish()` queues the event and returns at once with a `concurrent.futures.Future` of the stored event; it never
    raises. Events that pile up while a call is in flight (a burst) go out together in one `publishAgentEvents`
    call; with `coalesce_text`, consecutive `TextMessageDelta`s of one message are merged into one event (up to
    32,768 characters). `linger` (seconds) holds the first queued event that long, to gather more of a burst.

    A refused or unreachable event is logged, handed to `on_error(error, event)`, and its future fails; the events
    after it are still sent. At most `max_pending` events wait; beyond that new ones fail at once (the gateway has
    been unreachable for a long time). Call `flush()` to wait until everything queued is sent, `close()` at the end
    (or use `with`); an open publisher also flushes (for up to 5 s) when the interpreter exits.
    """

    def __init__(
        self,
        publisher: Publisher,
        *,
        coalesce_text: bool = True,
        linger: float = 0.0,
        max_pending: int = 10_000,
        on_error: Optional[Callable[[GatewayError, AgentEventInput], None]] = None,
    ):
        self.publisher = publisher
        self.coalesce_text = coalesce_text
        self.linger = linger
        self.max_pending = max_pending
        self.on_error = on_error
        self.failed = 0
        """How many events could not be published."""
        self._pending: deque[_Item] = deque()
        self._in_flight = 0
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="apg-background-publisher", daemon=True)
        self._thread.start()
        atexit.register(self._flush_at_exit)

    def publish(
        self, event: AgentEventInput, *, request_id: Optional[str] = _UNSET, agent: Optional[str] = _UNSET
    ) -> "Future[AgentEvent]":
        """Queues one event; the future resolves with the stored event, or fails with a `GatewayError`."""
        future: Future[AgentEvent] = Future()
        item = _Item(
            event,
            self.publisher.request_id if request_id is _UNSET else request_id,
            self.publisher.agent if agent is _UNSET else agent,
            future,
            time.monotonic(),
        )
        with self._changed:
            refusal = "closed" if self._closed else "full" if len(self._pending) >= self.max_pending else None
            if refusal is None:
                self._pending.append(item)
                self._changed.notify_all()
                return future
        self._fail([item], GatewayError("NOT_SENT", f"the background publisher is {refusal}"))
        return future

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Waits until every queued event was sent (or failed); False if `timeout` seconds passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._pending and self._in_flight == 0, timeout)

    def close(self, timeout: Optional[float] = None) -> bool:
        """Sends what is queued, then stops the thread; False if that took longer than `timeout` seconds."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(timeout)
        atexit.unregister(self._flush_at_exit)
        return not self._thread.is_alive()

    def __enter__(self) -> "BackgroundPublisher":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------------------

    def _flush_at_exit(self) -> None:
        if not self.flush(5.0):
            log.warning("exiting with %d agent events not sent", len(self._pending))

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return  # closed, and everything sent
                if self.linger > 0 and not self._closed:
                    until = self._pending[0].queued_at + self.linger
                    self._changed.wait_for(
                        lambda: self._closed or len(self._pending) >= self.publisher.max_batch, max(0.0, until - time.monotonic())
                    )
                groups = self._take()
                self._in_flight = sum(len(group) for group in groups)
            try:
                self._send(groups)
            except Exception as error:  # a bug must not kill the thread and strand every later event
                log.exception("background publisher failed")
                self._fail([item for group in groups for item in group], GatewayError("CLIENT_ERROR", repr(error)))
            with self._changed:
                self._in_flight = 0
                self._changed.notify_all()

    def _take(self) -> List[List[_Item]]:
        """The next events to send in one call: consecutive, with one envelope, deltas of one message merged."""
        first = self._pending[0]
        groups: List[List[_Item]] = []
        while self._pending and len(groups) < self.publisher.max_batch:
            item = self._pending[0]
            if (item.request_id, item.agent) != (first.request_id, first.agent):
                break
            self._pending.popleft()
            if self.coalesce_text and groups and _mergeable(groups[-1], item):
                groups[-1].append(item)
            else:
                groups.append([item])
        return groups

    def _send(self, groups: List[List[_Item]]) -> None:
        first = groups[0][0]
        events = [_merged(group) for group in groups]
        try:
            if len(events) == 1:
                stored = [self.publisher.publish(events[0], request_id=first.request_id, agent=first.agent)]
            else:
                stored = self.publisher.publish_many(events, request_id=first.request_id, agent=first.agent)
        except GatewayError as error:
            done = len(error.published)
            self._resolve(groups[:done], error.published)
            rest = groups[done:]
            if len(rest) > 1 and error.code in _SPLIT_ON:
                for group in rest:  # nothing of the batch was stored: find the event at fault
                    self._send([group])
            else:
                for group in rest:
                    self._fail(group, error)
            return
        self._resolve(groups, stored)

    def _resolve(self, groups: Sequence[List[_Item]], stored: Sequence[AgentEvent]) -> None:
        for group, event in zip(groups, stored):
            for item in group:
                item.future.set_result(event)

    def _fail(self, items: List[_Item], error: GatewayError) -> None:
        log.warning("agent event not published: %s", error)
        self.failed += len(items)
        for item in items:
            item.future.set_exception(error)
        if self.on_error:
            for item in items:
                try:
                    self.on_error(error, item.event)
                except Exception:
                    log.exception("on_error failed")


def _delta(item: _Item) -> Optional[Dict[str, Any]]:
    fields = item.event.get("textMessageDelta")
    return fields if isinstance(fields, dict) and len(item.event) == 1 else None


def _mergeable(group: List[_Item], item: _Item) -> bool:
    last, new = _delta(group[-1]), _delta(item)
    if last is None or new is None or last.get("messageId") != new.get("messageId"):
        return False
    total = sum(len(str(_delta(member)["delta"])) for member in group) + len(str(new.get("delta", "")))  # type: ignore[index]
    return total <= MAX_DELTA_CHARS


def _merged(group: List[_Item]) -> AgentEventInput:
    if len(group) == 1:
        return group[0].event
    deltas = [_delta(item) for item in group]
    return text_message_delta(deltas[0]["messageId"], "".join(str(d["delta"]) for d in deltas))  # type: ignore[index]


class TextMessage:
    """Streams one text message: `TextMessageStarted`, a `TextMessageDelta` per `write()`, `TextMessageFinished`.

        with TextMessage(publisher, role="assistant") as message:
            for chunk in model_stream:
                message.write(chunk)

    Through a `BackgroundPublisher`, rapid writes are merged into fewer deltas. Text longer than a delta may be is
    split.
    """

    def __init__(self, publisher: VariantMethods, role: Optional[str] = "assistant", message_id: Optional[str] = None):
        self.publisher = publisher
        self.role = role
        self.message_id = message_id or f"msg-{uuid.uuid4()}"

    def __enter__(self) -> "TextMessage":
        self.publisher.text_message_started(self.message_id, self.role)
        return self

    def write(self, text: str) -> None:
        for start in range(0, len(text), MAX_DELTA_CHARS):
            self.publisher.text_message_delta(self.message_id, text[start : start + MAX_DELTA_CHARS])

    def __exit__(self, *exc_info: Any) -> None:
        self.publisher.text_message_finished(self.message_id)
