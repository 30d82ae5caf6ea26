"""AdkProgress: ADK-shaped callback arguments in, the right events out on a real gateway; never a broken agent."""
from __future__ import annotations

import asyncio
import inspect
import sys
import types
import unittest

from agent_progress_gateway import BackgroundPublisher, Publisher, Retry
from agent_progress_gateway.adk import AdkProgress

from . import support
from .adk_fakes import (
    EXPECTED_RUN,
    BaseTool,
    CallbackContext,
    CallbackDriver,
    FakeClock,
    LlmAgent,
    LlmRequest,
    LlmResponse,
    PluginDriver,
    SequentialAgent,
    ToolContext,
    price,
    scripted_run,
)

# BasePlugin's methods and their keyword-only parameters (adk-python, src/google/adk/plugins/base_plugin.py).
ADK_PLUGIN_SIGNATURES = {
    "before_agent_callback": ["agent", "callback_context"],
    "after_agent_callback": ["agent", "callback_context"],
    "before_model_callback": ["callback_context", "llm_request"],
    "after_model_callback": ["callback_context", "llm_response"],
    "on_model_error_callback": ["callback_context", "llm_request", "error"],
    "before_tool_callback": ["tool", "tool_args", "tool_context"],
    "after_tool_callback": ["tool", "tool_args", "tool_context", "result"],
    "on_tool_error_callback": ["tool", "tool_args", "tool_context", "error"],
    "after_run_callback": ["invocation_context"],
}
# What ADK passes to an agent's own callbacks, by keyword (flows/llm_flows/functions.py, base_llm_flow.py).
ADK_CALLBACK_PARAMETERS = {
    "before_agent_callback": ["callback_context"],
    "after_agent_callback": ["callback_context"],
    "before_model_callback": ["callback_context", "llm_request"],
    "after_model_callback": ["callback_context", "llm_response"],
    "on_model_error_callback": ["callback_context", "llm_request", "error"],
    "before_tool_callback": ["tool", "args", "tool_context"],
    "after_tool_callback": ["tool", "args", "tool_context", "tool_response"],
    "on_tool_error_callback": ["tool", "args", "tool_context", "error"],
}


def unreachable() -> Publisher:
    # Nothing listens on port 9 of localhost: every try is refused at once.
    return Publisher("http://127.0.0.1:9/graphql", "s-nowhere", user_id="alice", retry=Retry(attempts=2, initial_delay=0.01))


class ScriptedRunTest(unittest.TestCase):
    """The same run, through the agent callbacks and through the plugin, publishes exactly EXPECTED_RUN."""

    def run_through(self, make_driver) -> list:
        session_id = support.start_session()
        clock = FakeClock()
        progress = AdkProgress(support.publisher(session_id, agent=None), cost=price, clock=clock)
        asyncio.run(scripted_run(make_driver(progress), clock))
        self.assertTrue(progress.flush(10))
        progress.close()
        return [support.compact(event) for event in support.history(session_id)]

    def test_agent_callbacks_publish_the_run(self):
        published = self.run_through(lambda progress: CallbackDriver(progress.callbacks()))
        self.assertEqual(published, [{**event, "requestId": "r1"} for event in EXPECTED_RUN])

    def test_plugin_publishes_the_same_run_and_has_sent_it_when_the_run_ends(self):
        session_id = support.start_session()
        clock = FakeClock()
        progress = AdkProgress(support.publisher(session_id, agent=None), cost=price, clock=clock)
        # No flush here: the plugin's after_run_callback must have waited until the run's events were sent.
        asyncio.run(scripted_run(PluginDriver(progress.plugin()), clock))
        published = [support.compact(event) for event in support.history(session_id)]
        progress.close()
        self.assertEqual(published, [{**event, "requestId": "r1"} for event in EXPECTED_RUN])

    def test_a_model_call_without_usage_or_model_name_still_finishes(self):
        session_id = support.start_session()
        progress = AdkProgress(support.publisher(session_id, agent=None), clock=FakeClock())
        context = CallbackContext("solo")
        progress.before_model_callback(callback_context=context, llm_request=LlmRequest(None))
        progress.after_model_callback(callback_context=context, llm_response=LlmResponse(model_version="gemini-x-001"))
        self.assertTrue(progress.flush(10))
        progress.close()
        self.assertEqual(
            [support.compact(event) for event in support.history(session_id)],
            [
                {"type": "MODEL_CALL_STARTED", "requestId": "r1", "agent": "solo", "model": "unknown"},
                {"type": "MODEL_CALL_FINISHED", "requestId": "r1", "agent": "solo", "model": "unknown", "durationMs": 0},
            ],
        )

    def test_tool_values_that_are_not_json_or_too_large_are_sent_as_previews(self):
        session_id = support.start_session()
        progress = AdkProgress(support.publisher(session_id, agent=None), max_value_chars=100, clock=FakeClock())
        context = ToolContext("coder", "adk-1")
        progress.before_tool_callback(tool=BaseTool("run"), args={"code": "x" * 500, "when": {1, 2}}, tool_context=context)
        progress.after_tool_callback(tool=BaseTool("run"), args={}, tool_context=context, tool_response={"ratio": float("nan")})
        self.assertTrue(progress.flush(10))
        progress.close()
        started, finished = support.history(session_id)
        self.assertEqual(started["args"]["truncated"], True)
        self.assertEqual(len(started["args"]["preview"]), 100)
        self.assertTrue(started["args"]["preview"].startswith('{"code": "xxx'))
        self.assertEqual(finished["result"], {"truncated": False, "preview": "{'ratio': nan}"})


class NeverBreaksTheAgentTest(unittest.TestCase):
    def test_every_callback_returns_none_and_raises_nothing_when_the_gateway_is_unreachable(self):
        progress = AdkProgress(unreachable(), cost=price, clock=FakeClock())
        with self.assertLogs("agent_progress_gateway", "WARNING") as logs:
            asyncio.run(scripted_run(CallbackDriver(progress.callbacks()), FakeClock()))
            asyncio.run(scripted_run(PluginDriver(progress.plugin()), FakeClock()))
            self.assertTrue(progress.flush(30))
        self.assertEqual(progress.publisher.failed, 2 * len(EXPECTED_RUN))
        self.assertTrue(any("NETWORK_ERROR" in line for line in logs.output))
        progress.close()

    def test_arguments_of_the_wrong_shape_are_logged_not_raised(self):
        progress = AdkProgress(unreachable())
        with self.assertLogs("agent_progress_gateway.adk", "ERROR") as logs:
            self.assertIsNone(progress.before_agent_callback(callback_context=None))
            self.assertIsNone(progress.after_tool_callback(tool=None, args=None, tool_context=None, tool_response=object()))
            self.assertIsNone(progress.after_model_callback(callback_context=object(), llm_response=None))
            # A cost function that raises costs the event its cost, nothing else.
            failing = AdkProgress(unreachable(), cost=lambda *_: 1 / 0)
            failing.before_model_callback(callback_context=CallbackContext("a"), llm_request=LlmRequest("m"))
            self.assertIsNone(failing.after_model_callback(callback_context=CallbackContext("a"), llm_response=LlmResponse()))
            # Wrong arguments altogether (an ADK version that renamed one) are caught too.
            self.assertIsNone(progress.before_tool_callback(tool=None, args=None))  # type: ignore[call-arg]
        self.assertTrue(any("cost function failed" in line for line in logs.output))
        self.assertTrue(any("before_tool_callback failed" in line for line in logs.output))
        progress.close()
        failing.close()


class WiringTest(unittest.TestCase):
    def test_the_callbacks_take_the_keyword_arguments_adk_passes(self):
        progress = AdkProgress(unreachable())
        callbacks = progress.callbacks()
        self.assertEqual(set(callbacks), set(ADK_CALLBACK_PARAMETERS))
        for name, parameters in ADK_CALLBACK_PARAMETERS.items():
            self.assertEqual(list(inspect.signature(callbacks[name]).parameters), parameters, name)
        self.assertEqual(set(progress.callbacks(llm=False)), {"before_agent_callback", "after_agent_callback"})
        progress.close()

    def test_without_adk_the_plugin_is_a_plain_object_with_basepluginlike_keyword_only_async_methods(self):
        self.assertNotIn("google.adk", sys.modules)
        progress = AdkProgress(unreachable())
        plugin = progress.plugin("progress")
        self.assertEqual(type(plugin).__mro__[1:], (object,))
        self.assertEqual(plugin.name, "progress")
        for name, parameters in ADK_PLUGIN_SIGNATURES.items():
            method = getattr(plugin, name)
            self.assertTrue(inspect.iscoroutinefunction(method), name)
            signature = inspect.signature(method).parameters.values()
            self.assertEqual([p.name for p in signature], parameters, name)
            self.assertTrue(all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in signature), name)
        self.assertTrue(inspect.iscoroutinefunction(plugin.close))
        progress.close()

    def test_with_adk_importable_the_plugin_subclasses_its_baseplugin(self):
        class BasePlugin:  # the shape of google.adk.plugins.base_plugin.BasePlugin
            def __init__(self, name: str):
                self.name = name

        modules = {}
        for name in ("google", "google.adk", "google.adk.plugins", "google.adk.plugins.base_plugin"):
            modules[name] = types.ModuleType(name)
        modules["google.adk.plugins.base_plugin"].BasePlugin = BasePlugin  # type: ignore[attr-defined]
        saved = {name: sys.modules.get(name) for name in modules}
        sys.modules.update(modules)
        try:
            progress = AdkProgress(unreachable())
            plugin = progress.plugin("progress")
        finally:
            for name, module in saved.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module
        self.assertIsInstance(plugin, BasePlugin)
        self.assertEqual(plugin.name, "progress")
        progress.close()

    def test_instrument_adds_the_callbacks_each_agent_of_a_tree_has_a_field_for_after_its_own(self):
        progress = AdkProgress(unreachable())

        def own_model_callback(callback_context, llm_request):
            return None

        researcher = LlmAgent("researcher", before_model_callback=own_model_callback)
        pipeline = SequentialAgent("pipeline", sub_agents=[researcher, LlmAgent("writer")])
        root = LlmAgent("root", sub_agents=[pipeline])
        self.assertIs(progress.instrument(root), root)
        progress.instrument(root)  # twice: nothing is added a second time

        self.assertEqual(researcher.before_model_callback, [own_model_callback, progress.before_model_callback])
        self.assertEqual(root.before_tool_callback, progress.before_tool_callback)
        self.assertEqual(pipeline.before_agent_callback, progress.before_agent_callback)
        self.assertFalse(hasattr(pipeline, "before_model_callback"))
        writer = pipeline.sub_agents[1]
        for name in ADK_CALLBACK_PARAMETERS:
            self.assertEqual(getattr(writer, name), getattr(progress, name), name)
        progress.close()

    def test_an_adkprogress_shares_a_background_publisher_it_is_given(self):
        background = BackgroundPublisher(unreachable())
        self.assertIs(AdkProgress(background).publisher, background)
        background.close()


if __name__ == "__main__":
    unittest.main()
