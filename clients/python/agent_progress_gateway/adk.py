"""Google ADK (adk-python) callbacks and plugin that report an agent's work to the gateway.

    progress = AdkProgress(Publisher(url, job["sessionId"], token=job["publishToken"], request_id=job["requestId"]))

    # Either: callbacks on one agent (LlmAgent takes all eight; SequentialAgent & co. the two agent callbacks) …
    agent = LlmAgent(name="planner", model="gemini-2.5-flash", **progress.callbacks())
    progress.instrument(root_agent)         # … or the same on an agent and all its sub-agents;
    # or: one plugin for every agent a Runner runs.
    runner = Runner(agent=root_agent, app_name="app", session_service=..., plugins=[progress.plugin()])

What is published (the `agent` of each event is the ADK agent's name):

| ADK callback | event |
|---|---|
| before_agent / after_agent | AgentStarted / AgentFinished (durationMs) |
| before_model / after_model | ModelCallStarted (model) / ModelCallFinished (model, inputTokens, outputTokens, cost, durationMs); |
| | outputTokens counts candidates and thinking tokens; a streamed chunk (`partial`) publishes nothing |
| on_model_error | ErrorReported (code MODEL_ERROR), then ModelCallFinished (durationMs) |
| after_model with an error_code | ModelCallFinished, then ErrorReported (code: the response's error_code) |
| before_tool / after_tool | ToolCallStarted (args) / ToolCallFinished (result, durationMs); AgentTransferred after `transfer_to_agent` |
| on_tool_error | ToolCallFinished (error, durationMs) |

Every callback returns None, so ADK proceeds as if it were not there, and never raises: publishing goes through a
`BackgroundPublisher` (the agent never waits on the network), and a failure is logged, never passed to the agent.
ADK is not imported here; the plugin subclasses ADK's BasePlugin when ADK is installed.
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any, Callable, Dict, Hashable, Optional, Tuple

from . import events
from .publisher import BackgroundPublisher, Publisher

log = logging.getLogger("agent_progress_gateway.adk")

CostFunction = Callable[[str, Optional[int], Optional[int]], Optional[float]]
"""`cost(model, input_tokens, output_tokens)`: the cost of one model call, or None when unknown."""

_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_NAME_MAX = 200  # the gateway's limit for names (agent, model, tool), in characters
_MESSAGE_MAX = 10_000  # and for messages and errors
_JSON_DEPTH_MAX = 30  # the gateway refuses JSON nested deeper than 32 levels; an event adds one or two
TRANSFER_TOOL = "transfer_to_agent"


def _never_raises(method: Callable[..., None]) -> Callable[..., None]:
    """A callback that logs whatever goes wrong inside it and returns None: reporting must never break the agent."""

    @functools.wraps(method)
    def guarded(self: "AdkProgress", *args: Any, **kwargs: Any) -> None:
        try:
            method(self, *args, **kwargs)
        except Exception:
            log.exception("agent progress: %s failed; the agent goes on", method.__name__)
        return None

    return guarded


class _Pending:
    """Start times of what has started and not yet finished, bounded so lost finishes cannot leak memory."""

    def __init__(self, limit: int = 10_000):
        self._entries: "OrderedDict[Hashable, Tuple[float, Any]]" = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def start(self, key: Hashable, started: float, value: Any = None) -> None:
        with self._lock:
            self._entries[key] = (started, value)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)

    def finish(self, key: Hashable) -> Tuple[Optional[float], Any]:
        with self._lock:
            return self._entries.pop(key, (None, None))


class AdkProgress:
    """Maps ADK's callbacks onto gateway events, published through `publisher`.

    `publisher`: a `Publisher` (wrapped in a `BackgroundPublisher`, the agent never waits on the network) or a
    `BackgroundPublisher`. `cost(model, input_tokens, output_tokens)` prices a model call. Tool args and results
    longer than `max_value_chars` of JSON are replaced by `{"truncated": true, "preview": <first chars>}`, so one
    huge value cannot make its event too large to publish.
    """

    def __init__(
        self,
        publisher: Publisher | BackgroundPublisher,
        *,
        cost: Optional[CostFunction] = None,
        max_value_chars: int = 16_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.publisher = publisher if isinstance(publisher, BackgroundPublisher) else BackgroundPublisher(publisher)
        self.cost = cost
        self.max_value_chars = max_value_chars
        self._clock = clock
        self._agents = _Pending()
        self._models = _Pending()
        self._tools = _Pending()

    # -- agent callbacks (LlmAgent(before_agent_callback=..., ...)); ADK passes them by keyword ---------------------

    @_never_raises
    def before_agent_callback(self, callback_context: Any) -> None:
        agent = _agent_name(callback_context)
        self._agents.start(_invocation_key(callback_context, agent), self._clock())
        self._send(events.agent_started(), agent)

    @_never_raises
    def after_agent_callback(self, callback_context: Any) -> None:
        agent = _agent_name(callback_context)
        started, _ = self._agents.finish(_invocation_key(callback_context, agent))
        self._send(events.agent_finished(duration_ms=self._since(started)), agent)

    @_never_raises
    def before_model_callback(self, callback_context: Any, llm_request: Any) -> None:
        agent = _agent_name(callback_context)
        model = _text(getattr(llm_request, "model", None), _NAME_MAX) or "unknown"
        self._models.start(_invocation_key(callback_context, agent), self._clock(), model)
        self._send(events.model_call_started(model), agent)

    @_never_raises
    def after_model_callback(self, callback_context: Any, llm_response: Any) -> None:
        if getattr(llm_response, "partial", None):
            return  # a chunk of a streamed answer: the call finishes with the final, complete response
        agent = _agent_name(callback_context)
        started, model = self._models.finish(_invocation_key(callback_context, agent))
        model = model or _text(getattr(llm_response, "model_version", None), _NAME_MAX) or "unknown"
        usage = getattr(llm_response, "usage_metadata", None)
        input_tokens = _count(getattr(usage, "prompt_token_count", None))
        candidates = _count(getattr(usage, "candidates_token_count", None))
        thoughts = _count(getattr(usage, "thoughts_token_count", None))
        # Thinking tokens are produced (and billed) as output: count them with the candidates'.
        output_tokens = None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
        cost = self._cost(model, input_tokens, output_tokens)
        self._send(events.model_call_finished(model, input_tokens, output_tokens, cost, self._since(started)), agent)
        error_code = getattr(llm_response, "error_code", None)
        if error_code:
            message = getattr(llm_response, "error_message", None) or f"the model answered {error_code}"
            self._send(events.error_reported(_text(message, _MESSAGE_MAX), _text(_enum_name(error_code), 100)), agent)

    @_never_raises
    def on_model_error_callback(self, callback_context: Any, llm_request: Any, error: BaseException) -> None:
        agent = _agent_name(callback_context)
        started, model = self._models.finish(_invocation_key(callback_context, agent))
        model = model or _text(getattr(llm_request, "model", None), _NAME_MAX) or "unknown"
        self._send(events.error_reported(_describe(error), "MODEL_ERROR", False), agent)
        self._send(events.model_call_finished(model, duration_ms=self._since(started)), agent)

    @_never_raises
    def before_tool_callback(self, tool: Any, args: Dict[str, Any], tool_context: Any) -> None:
        agent = _agent_name(tool_context)
        call_id = _tool_call_id(tool_context)
        self._tools.start(_tool_key(tool_context, tool, call_id), self._clock(), call_id)
        self._send(events.tool_call_started(call_id, _tool_name(tool), self._value(args)), agent)

    @_never_raises
    def after_tool_callback(self, tool: Any, args: Dict[str, Any], tool_context: Any, tool_response: Any) -> None:
        agent = _agent_name(tool_context)
        call_id = _tool_call_id(tool_context)
        started, _ = self._tools.finish(_tool_key(tool_context, tool, call_id))
        name = _tool_name(tool)
        self._send(events.tool_call_finished(call_id, name, self._value(tool_response), None, self._since(started)), agent)
        target = args.get("agent_name") if isinstance(args, dict) else None
        if name == TRANSFER_TOOL and isinstance(target, str) and agent:
            self._send(events.agent_transferred(agent, _text(target, _NAME_MAX)), agent)

    @_never_raises
    def on_tool_error_callback(self, tool: Any, args: Dict[str, Any], tool_context: Any, error: BaseException) -> None:
        agent = _agent_name(tool_context)
        call_id = _tool_call_id(tool_context)
        started, _ = self._tools.finish(_tool_key(tool_context, tool, call_id))
        self._send(events.tool_call_finished(call_id, _tool_name(tool), None, _describe(error), self._since(started)), agent)

    # -- wiring ------------------------------------------------------------------------------------------------

    AGENT_CALLBACKS = ("before_agent_callback", "after_agent_callback")
    LLM_CALLBACKS = (
        "before_model_callback",
        "after_model_callback",
        "on_model_error_callback",
        "before_tool_callback",
        "after_tool_callback",
        "on_tool_error_callback",
    )

    def callbacks(self, *, llm: bool = True) -> Dict[str, Callable[..., None]]:
        """Keyword arguments for an ADK agent: `LlmAgent(..., **progress.callbacks())`.

        `llm=False` gives only the agent callbacks, for agents without model or tools (SequentialAgent, …).
        """
        names = self.AGENT_CALLBACKS + (self.LLM_CALLBACKS if llm else ())
        return {name: getattr(self, name) for name in names}

    def instrument(self, agent: Any) -> Any:
        """Adds these callbacks to `agent` and every sub-agent below it, after the callbacks they already have.

        Only the callbacks an agent has a field for are added (an LlmAgent takes all, a SequentialAgent the agent
        callbacks). Returns `agent`.
        """
        seen = set()
        stack = [agent]
        while stack:
            current = stack.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            fields = _declared_fields(current)
            for name, callback in self.callbacks().items():
                if name not in fields:
                    continue
                existing = getattr(current, name, None)
                if existing is None:
                    chain: Any = callback
                elif isinstance(existing, list):
                    chain = existing if callback in existing else [*existing, callback]
                else:
                    chain = existing if existing == callback else [existing, callback]
                setattr(current, name, chain)
            stack.extend(getattr(current, "sub_agents", None) or [])
        return agent

    def plugin(self, name: str = "agent_progress") -> Any:
        """This mapping as an ADK plugin, for `Runner(..., plugins=[progress.plugin()])`: every agent the runner runs.

        It subclasses `google.adk.plugins.base_plugin.BasePlugin` when ADK is importable; without ADK it is a plain
        object with the same methods (keyword-only, async). After a run it waits (off the event loop) until the
        run's events are sent; `close()` does the same when the runner closes.
        """
        return _plugin_class()(self, name)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Waits until every event reported so far was sent (or failed)."""
        return self.publisher.flush(timeout)

    def close(self, timeout: Optional[float] = None) -> bool:
        """Sends what is queued and stops the background publisher (at the end of a job)."""
        return self.publisher.close(timeout)

    # -- internals ---------------------------------------------------------------------------------------------

    def _send(self, event: events.AgentEventInput, agent: Optional[str]) -> None:
        self.publisher.publish(event, agent=agent)

    def _since(self, started: Optional[float]) -> Optional[float]:
        return None if started is None else round(max(0.0, (self._clock() - started) * 1000), 3)

    def _cost(self, model: str, input_tokens: Optional[int], output_tokens: Optional[int]) -> Optional[float]:
        if self.cost is None:
            return None
        try:
            value = self.cost(model, input_tokens, output_tokens)
        except Exception:
            log.exception("agent progress: the cost function failed")
            return None
        return float(value) if isinstance(value, (int, float)) and value >= 0 else None

    def _value(self, value: Any) -> Any:
        """`value` as JSON the gateway takes: non-JSON leaves become text, a long or deep value a preview."""
        if value is None:
            return None
        try:
            text = json.dumps(value, default=_jsonable, ensure_ascii=False, allow_nan=False)
        except (ValueError, TypeError, RecursionError):  # NaN, Infinity, a cycle: not JSON, but its text will do
            text = repr(value)
            return {"truncated": len(text) > self.max_value_chars, "preview": text[: self.max_value_chars]}
        if len(text) > self.max_value_chars or _deeper_than(json.loads(text), _JSON_DEPTH_MAX):
            return {"truncated": True, "preview": text[: self.max_value_chars]}
        return json.loads(text)


def _plugin_base() -> type:
    try:
        from google.adk.plugins.base_plugin import BasePlugin  # type: ignore[import-not-found]
    except ImportError:
        return object
    return BasePlugin


_plugin_classes: Dict[type, type] = {}


def _plugin_class() -> type:
    """The plugin class, made on first use on top of whatever `_plugin_base()` finds (ADK's BasePlugin, or object)."""
    base = _plugin_base()
    if base in _plugin_classes:
        return _plugin_classes[base]

    class AgentProgressPlugin(base):  # type: ignore[misc, valid-type]
        """ADK plugin publishing agent, model and tool progress to the Agent Progress Gateway."""

        def __init__(self, progress: AdkProgress, name: str):
            if base is object:
                self.name = name
            else:
                super().__init__(name=name)
            self.progress = progress

        async def before_agent_callback(self, *, agent: Any, callback_context: Any) -> None:
            self.progress.before_agent_callback(callback_context=_NamedContext(callback_context, agent))
            return None

        async def after_agent_callback(self, *, agent: Any, callback_context: Any) -> None:
            self.progress.after_agent_callback(callback_context=_NamedContext(callback_context, agent))
            return None

        async def before_model_callback(self, *, callback_context: Any, llm_request: Any) -> None:
            self.progress.before_model_callback(callback_context=callback_context, llm_request=llm_request)
            return None

        async def after_model_callback(self, *, callback_context: Any, llm_response: Any) -> None:
            self.progress.after_model_callback(callback_context=callback_context, llm_response=llm_response)
            return None

        async def on_model_error_callback(self, *, callback_context: Any, llm_request: Any, error: Exception) -> None:
            self.progress.on_model_error_callback(callback_context=callback_context, llm_request=llm_request, error=error)
            return None

        async def before_tool_callback(self, *, tool: Any, tool_args: Dict[str, Any], tool_context: Any) -> None:
            self.progress.before_tool_callback(tool=tool, args=tool_args, tool_context=tool_context)
            return None

        async def after_tool_callback(self, *, tool: Any, tool_args: Dict[str, Any], tool_context: Any, result: Any) -> None:
            self.progress.after_tool_callback(tool=tool, args=tool_args, tool_context=tool_context, tool_response=result)
            return None

        async def on_tool_error_callback(
            self, *, tool: Any, tool_args: Dict[str, Any], tool_context: Any, error: Exception
        ) -> None:
            self.progress.on_tool_error_callback(tool=tool, args=tool_args, tool_context=tool_context, error=error)
            return None

        async def after_run_callback(self, *, invocation_context: Any) -> None:
            await self._flush()
            return None

        async def close(self) -> None:
            await self._flush()

        async def _flush(self) -> None:
            try:
                # flush() blocks: run it in a thread, so the event loop (and other runs) carry on meanwhile.
                await asyncio.get_running_loop().run_in_executor(None, self.progress.flush, 10.0)
            except Exception:
                log.exception("agent progress: flush failed")

    _plugin_classes[base] = AgentProgressPlugin
    return AgentProgressPlugin


class _NamedContext:
    """A callback context whose agent name comes from the plugin's `agent` argument when the context lacks one."""

    def __init__(self, context: Any, agent: Any):
        self._context = context
        self.agent_name = getattr(agent, "name", None) or getattr(context, "agent_name", None)
        self.invocation_id = getattr(context, "invocation_id", None)


def _declared_fields(agent: Any) -> set:
    # A pydantic model (every ADK agent) declares its fields; anything else: the attributes it has.
    fields = getattr(type(agent), "model_fields", None)
    if isinstance(fields, dict):
        return set(fields)
    return {name for name in AdkProgress.AGENT_CALLBACKS + AdkProgress.LLM_CALLBACKS if hasattr(agent, name)}


def _agent_name(context: Any) -> Optional[str]:
    return _text(getattr(context, "agent_name", None), _NAME_MAX)


def _invocation_key(context: Any, agent: Optional[str]) -> Tuple[Any, Optional[str]]:
    return (getattr(context, "invocation_id", None), agent)


def _tool_name(tool: Any) -> str:
    return _text(getattr(tool, "name", None), _NAME_MAX) or type(tool).__name__


def _tool_call_id(tool_context: Any) -> str:
    """ADK's function call id (`adk-<uuid>`), made safe for the gateway's id alphabet; a fresh one without it."""
    call_id = getattr(tool_context, "function_call_id", None)
    if isinstance(call_id, str) and call_id:
        return _UNSAFE_ID_CHARS.sub("_", call_id)[:128]
    # Without an id, start and finish are paired by the context object itself (see _tool_key).
    generated = getattr(tool_context, "_apg_tool_call_id", None)
    if generated is None:
        generated = f"tool-{uuid.uuid4()}"
        try:
            setattr(tool_context, "_apg_tool_call_id", generated)
        except Exception:
            pass
    return generated


def _tool_key(tool_context: Any, tool: Any, call_id: str) -> Tuple[Any, ...]:
    return (getattr(tool_context, "invocation_id", None), call_id, _tool_name(tool))


def _text(value: Any, limit: int) -> Optional[str]:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _enum_name(value: Any) -> str:
    # google.genai enums (FinishReason.SAFETY) print as "FinishReason.SAFETY"; the code is the member's name.
    return getattr(value, "name", None) or str(value)


def _describe(error: BaseException) -> str:
    return _text(f"{type(error).__name__}: {error}", _MESSAGE_MAX) or type(error).__name__


def _count(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _jsonable(value: Any) -> Any:
    """json.dumps' fallback: pydantic models (ADK, google.genai) as their data, sets as lists, anything else as text."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json", exclude_none=True)
        except Exception:
            pass
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels (the gateway refuses JSON deeper than 32)."""
    level = [value]
    for _ in range(limit):
        level = [child for item in level for child in (item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())]
        if not level:
            return False
    return any(isinstance(item, (dict, list)) for item in level)
