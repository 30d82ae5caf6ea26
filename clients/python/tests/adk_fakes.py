"""Objects shaped like the arguments Google ADK (adk-python) passes to callbacks and plugins, and a scripted run
that calls them the way ADK does (ADK itself cannot be installed here).

Shapes, from adk-python's source: agent callbacks are called by keyword — `callback(callback_context=...)`,
`callback(callback_context=..., llm_request=...)`, `callback(tool=..., args=..., tool_context=..., tool_response=...)`
(flows/llm_flows/functions.py, base_llm_flow.py, agents/base_agent.py) — and may be sync or async; plugin methods are
awaited with keyword-only arguments — `before_agent_callback(*, agent, callback_context)`,
`before_tool_callback(*, tool, tool_args, tool_context)`, `after_tool_callback(*, tool, tool_args, tool_context,
result)` (plugins/base_plugin.py, plugins/plugin_manager.py). CallbackContext has `agent_name` and `invocation_id`
(agents/readonly_context.py); ToolContext adds `function_call_id`; LlmRequest has `model`; LlmResponse has
`partial`, `usage_metadata` (prompt_token_count, candidates_token_count, thoughts_token_count), `error_code`,
`error_message`, `model_version` (models/llm_response.py).
"""
from __future__ import annotations

import enum
import inspect
from typing import Any, Dict, List, Optional


class FakeClock:
    """A monotonic clock the run advances by hand, so every duration is exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += ms / 1000


class CallbackContext:
    def __init__(self, agent_name: str, invocation_id: str = "e-1f2e3d") -> None:
        self.agent_name = agent_name
        self.invocation_id = invocation_id
        self.state: Dict[str, Any] = {}


class ToolContext(CallbackContext):
    def __init__(self, agent_name: str, function_call_id: Optional[str], invocation_id: str = "e-1f2e3d") -> None:
        super().__init__(agent_name, invocation_id)
        self.function_call_id = function_call_id


class LlmRequest:
    def __init__(self, model: Optional[str]) -> None:
        self.model = model
        self.contents: List[Any] = []


class UsageMetadata:
    def __init__(self, prompt_token_count: Optional[int], candidates_token_count: Optional[int], thoughts_token_count: Optional[int] = None):
        self.prompt_token_count = prompt_token_count
        self.candidates_token_count = candidates_token_count
        self.thoughts_token_count = thoughts_token_count


class FinishReason(enum.Enum):  # google.genai.types.FinishReason
    STOP = "STOP"
    SAFETY = "SAFETY"


class LlmResponse:
    def __init__(self, *, usage_metadata: Optional[UsageMetadata] = None, partial: Optional[bool] = None,
                 error_code: Any = None, error_message: Optional[str] = None, model_version: Optional[str] = None):
        self.usage_metadata = usage_metadata
        self.partial = partial
        self.error_code = error_code
        self.error_message = error_message
        self.model_version = model_version
        self.content = None


class BaseTool:
    def __init__(self, name: str) -> None:
        self.name = name
        self.description = f"the {name} tool"


class LlmAgent:
    """Declares its fields as a pydantic model does (`model_fields`): LlmAgent has all eight callbacks."""

    model_fields = dict.fromkeys([
        "name", "sub_agents", "before_agent_callback", "after_agent_callback", "before_model_callback",
        "after_model_callback", "on_model_error_callback", "before_tool_callback", "after_tool_callback",
        "on_tool_error_callback",
    ])

    def __init__(self, name: str, sub_agents: Optional[List[Any]] = None, **callbacks: Any) -> None:
        self.name = name
        self.sub_agents = sub_agents or []
        for field in self.model_fields:
            if field.endswith("_callback"):
                setattr(self, field, callbacks.get(field))


class SequentialAgent:
    """A workflow agent: only the agent callbacks."""

    model_fields = dict.fromkeys(["name", "sub_agents", "before_agent_callback", "after_agent_callback"])

    def __init__(self, name: str, sub_agents: Optional[List[Any]] = None) -> None:
        self.name = name
        self.sub_agents = sub_agents or []
        self.before_agent_callback = None
        self.after_agent_callback = None


class InvocationContext:
    def __init__(self, invocation_id: str = "e-1f2e3d") -> None:
        self.invocation_id = invocation_id


async def _call(callback: Any, **kwargs: Any) -> None:
    result = callback(**kwargs)
    if inspect.isawaitable(result):
        result = await result
    # A callback that returned something would make ADK skip or replace the agent's own work.
    assert result is None, f"{getattr(callback, '__name__', callback)} returned {result!r}"


class CallbackDriver:
    """Calls `callbacks` (what `AdkProgress.callbacks()` gives an LlmAgent) as ADK calls agent callbacks."""

    def __init__(self, callbacks: Dict[str, Any]) -> None:
        self.callbacks = callbacks

    async def agent(self, when: str, agent: LlmAgent, context: CallbackContext) -> None:
        await _call(self.callbacks[f"{when}_agent_callback"], callback_context=context)

    async def model(self, when: str, context: CallbackContext, **kwargs: Any) -> None:
        await _call(self.callbacks[f"{when}_model_callback" if when != "error" else "on_model_error_callback"], callback_context=context, **kwargs)

    async def tool(self, when: str, tool: BaseTool, args: Dict[str, Any], context: ToolContext, **kwargs: Any) -> None:
        name = {"before": "before_tool_callback", "after": "after_tool_callback", "error": "on_tool_error_callback"}[when]
        if "result" in kwargs:
            kwargs["tool_response"] = kwargs.pop("result")
        await _call(self.callbacks[name], tool=tool, args=args, tool_context=context, **kwargs)

    async def end_of_run(self, invocation: InvocationContext) -> None:
        pass


class PluginDriver:
    """Awaits a plugin's methods as ADK's PluginManager does: keyword-only arguments."""

    def __init__(self, plugin: Any) -> None:
        self.plugin = plugin

    async def agent(self, when: str, agent: LlmAgent, context: CallbackContext) -> None:
        await _call(getattr(self.plugin, f"{when}_agent_callback"), agent=agent, callback_context=context)

    async def model(self, when: str, context: CallbackContext, **kwargs: Any) -> None:
        await _call(getattr(self.plugin, f"{when}_model_callback" if when != "error" else "on_model_error_callback"), callback_context=context, **kwargs)

    async def tool(self, when: str, tool: BaseTool, args: Dict[str, Any], context: ToolContext, **kwargs: Any) -> None:
        name = {"before": "before_tool_callback", "after": "after_tool_callback", "error": "on_tool_error_callback"}[when]
        await _call(getattr(self.plugin, name), tool=tool, tool_args=args, tool_context=context, **kwargs)

    async def end_of_run(self, invocation: InvocationContext) -> None:
        await _call(self.plugin.after_run_callback, invocation_context=invocation)


def price(model: str, input_tokens: Optional[int], output_tokens: Optional[int]) -> Optional[float]:
    """A cost function: $1 per million input tokens, $4 per million output tokens."""
    return ((input_tokens or 0) * 1 + (output_tokens or 0) * 4) / 1_000_000


async def scripted_run(driver: Any, clock: FakeClock) -> None:
    """A planner that asks a model, searches, hands over to a writer whose model and tool fail, then finishes.

    The events it must produce are EXPECTED_RUN (and the same list in test/integration/python-client.test.ts).
    """
    writer = LlmAgent("writer")
    planner = LlmAgent("planner", sub_agents=[writer])
    planning, writing = CallbackContext("planner"), CallbackContext("writer")

    await driver.agent("before", planner, planning)
    await driver.model("before", planning, llm_request=LlmRequest("gemini-2.5-flash"))
    clock.advance(800)
    await driver.model("after", planning, llm_response=LlmResponse(partial=True))  # a streamed chunk: no event
    clock.advance(400)
    usage = UsageMetadata(prompt_token_count=1200, candidates_token_count=300, thoughts_token_count=50)
    await driver.model("after", planning, llm_response=LlmResponse(usage_metadata=usage))

    search = ToolContext("planner", "adk-7c1a")
    await driver.tool("before", BaseTool("web_search"), {"q": "Lisbon in May"}, search)
    clock.advance(300)
    await driver.tool("after", BaseTool("web_search"), {"q": "Lisbon in May"}, search, result={"hits": 3, "top": ["a", "b"]})

    transfer = ToolContext("planner", "adk-9d2b")
    await driver.tool("before", BaseTool("transfer_to_agent"), {"agent_name": "writer"}, transfer)
    clock.advance(1)
    await driver.tool("after", BaseTool("transfer_to_agent"), {"agent_name": "writer"}, transfer, result=None)

    await driver.agent("before", writer, writing)
    await driver.model("before", writing, llm_request=LlmRequest("gemini-2.5-pro"))
    clock.advance(500)
    await driver.model("error", writing, llm_request=LlmRequest("gemini-2.5-pro"), error=ConnectionError("model overloaded"))

    reading = ToolContext("writer", "adk-3e4f")
    await driver.tool("before", BaseTool("read_file"), {"path": "notes.md"}, reading)
    clock.advance(50)
    await driver.tool("error", BaseTool("read_file"), {"path": "notes.md"}, reading, error=FileNotFoundError("notes.md"))

    await driver.model("before", writing, llm_request=LlmRequest("gemini-2.5-pro"))
    clock.advance(700)
    blocked = LlmResponse(usage_metadata=UsageMetadata(90, 0), error_code=FinishReason.SAFETY, error_message="Blocked for safety")
    await driver.model("after", writing, llm_response=blocked)
    clock.advance(10)
    await driver.agent("after", writer, writing)
    await driver.agent("after", planner, planning)
    await driver.end_of_run(InvocationContext())


EXPECTED_RUN: List[Dict[str, Any]] = [
    {"type": "AGENT_STARTED", "agent": "planner"},
    {"type": "MODEL_CALL_STARTED", "agent": "planner", "model": "gemini-2.5-flash"},
    {"type": "MODEL_CALL_FINISHED", "agent": "planner", "model": "gemini-2.5-flash", "inputTokens": 1200,
     "outputTokens": 350, "cost": 0.0026, "durationMs": 1200},
    {"type": "TOOL_CALL_STARTED", "agent": "planner", "toolCallId": "adk-7c1a", "toolName": "web_search", "args": {"q": "Lisbon in May"}},
    {"type": "TOOL_CALL_FINISHED", "agent": "planner", "toolCallId": "adk-7c1a", "toolName": "web_search",
     "result": {"hits": 3, "top": ["a", "b"]}, "durationMs": 300},
    {"type": "TOOL_CALL_STARTED", "agent": "planner", "toolCallId": "adk-9d2b", "toolName": "transfer_to_agent", "args": {"agent_name": "writer"}},
    {"type": "TOOL_CALL_FINISHED", "agent": "planner", "toolCallId": "adk-9d2b", "toolName": "transfer_to_agent", "durationMs": 1},
    {"type": "AGENT_TRANSFERRED", "agent": "planner", "fromAgent": "planner", "toAgent": "writer"},
    {"type": "AGENT_STARTED", "agent": "writer"},
    {"type": "MODEL_CALL_STARTED", "agent": "writer", "model": "gemini-2.5-pro"},
    {"type": "ERROR_REPORTED", "agent": "writer", "message": "ConnectionError: model overloaded", "code": "MODEL_ERROR", "retrying": False},
    {"type": "MODEL_CALL_FINISHED", "agent": "writer", "model": "gemini-2.5-pro", "durationMs": 500},
    {"type": "TOOL_CALL_STARTED", "agent": "writer", "toolCallId": "adk-3e4f", "toolName": "read_file", "args": {"path": "notes.md"}},
    {"type": "TOOL_CALL_FINISHED", "agent": "writer", "toolCallId": "adk-3e4f", "toolName": "read_file",
     "error": "FileNotFoundError: notes.md", "durationMs": 50},
    {"type": "MODEL_CALL_STARTED", "agent": "writer", "model": "gemini-2.5-pro"},
    {"type": "MODEL_CALL_FINISHED", "agent": "writer", "model": "gemini-2.5-pro", "inputTokens": 90, "outputTokens": 0,
     "cost": 0.00009, "durationMs": 700},
    {"type": "ERROR_REPORTED", "agent": "writer", "message": "Blocked for safety", "code": "SAFETY"},
    {"type": "AGENT_FINISHED", "agent": "writer", "durationMs": 1260},
    {"type": "AGENT_FINISHED", "agent": "planner", "durationMs": 2761},
]
"""What `scripted_run` must publish (with requestId r1), in this order."""
