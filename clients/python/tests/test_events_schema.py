"""The variant functions follow schema/schema.graphql: a schema change the Python client misses fails here."""
from __future__ import annotations

import inspect
import re
import sys
import unittest

from agent_progress_gateway import events
from agent_progress_gateway.publisher import BackgroundPublisher, Publisher

from .support import REPO

sys.path.insert(0, str(REPO / "clients" / "python" / "scripts"))
import generate_events  # noqa: E402

SCHEMA = (REPO / "schema" / "schema.graphql").read_text(encoding="utf-8")


class EventsFollowTheSchemaTest(unittest.TestCase):
    def test_events_py_is_what_the_generator_makes_from_the_current_schema(self):
        wanted = generate_events.render(generate_events.parse(SCHEMA))
        current = inspect.getsource(events)
        self.assertTrue(current == wanted, "agent_progress_gateway/events.py is stale: run python3 clients/python/scripts/generate_events.py")

    def test_every_agenteventinput_field_has_a_function_and_a_method(self):
        # Read straight from the schema text, independently of the generator's parser.
        block = re.search(r"input AgentEventInput @oneOf \{(.*?)\n\}", SCHEMA, re.S).group(1)  # type: ignore[union-attr]
        input_fields = re.findall(r"^\s+(\w+): \w+Input$", block, re.M)
        self.assertGreater(len(input_fields), 20)
        self.assertEqual(list(events.VARIANTS), input_fields)
        for field in input_fields:
            name = re.sub(r"([A-Z])", r"_\1", field).lower()
            self.assertTrue(callable(getattr(events, name)), name)
            for cls in (Publisher, BackgroundPublisher):
                self.assertTrue(callable(getattr(cls, name)), f"{cls.__name__}.{name}")

    def test_each_function_takes_its_input_types_fields_required_ones_without_default(self):
        for variant in events.VARIANTS.values():
            input_type = re.search(
                rf"input {variant.input_field[0].upper()}{variant.input_field[1:]}Input \{{(.*?)\n\}}", SCHEMA, re.S
            ).group(1)  # type: ignore[union-attr]
            schema_fields = dict(re.findall(r"^\s+(\w+): ([\w!\[\]]+)$", input_type, re.M))
            function = getattr(events, re.sub(r"([A-Z])", r"_\1", variant.input_field).lower())
            parameters = inspect.signature(function).parameters
            self.assertEqual({field.python_name: field.name for field in variant.fields}.keys(), parameters.keys())
            for field in variant.fields:
                self.assertEqual(schema_fields[field.name], field.graphql_type, f"{variant.input_field}.{field.name}")
                has_default = parameters[field.python_name].default is not inspect.Parameter.empty
                self.assertEqual(has_default, not field.required, f"{variant.input_field}.{field.name}")

    def test_a_function_builds_the_oneof_input_leaving_absent_fields_out(self):
        self.assertEqual(
            events.tool_call_finished("t1", "search", result={"hits": 2}, duration_ms=12.5),
            {"toolCallFinished": {"toolCallId": "t1", "toolName": "search", "result": {"hits": 2}, "durationMs": 12.5}},
        )
        self.assertEqual(events.run_started(), {"runStarted": {}})
        self.assertEqual(events.VARIANT_BY_TYPE["TEXT_MESSAGE_DELTA"].input_field, "textMessageDelta")

    def test_the_generators_check_mode_agrees(self):
        self.assertEqual(generate_events.main(["--check"]), 0)


if __name__ == "__main__":
    unittest.main()
