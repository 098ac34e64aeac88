"""Self-tests that kill the mutation run's survivors in the fake's structured output (``fake/structured.py``),
called in-process: the minimal instance of each kind of schema, recursion ended at the depth limit, local
``$ref`` resolution (escapes, non-objects), and the one-line mismatch of a scripted answer."""

from __future__ import annotations

from narrative_fixtures.services.openai.fake.structured import (
    FORMATS,
    MAX_DEPTH,
    RequestedSchema,
    _resolve,
    answer_for,
    chat_schema,
    minimal_instance,
    mismatch,
    responses_schema,
)


def _nesting(value, key=None) -> int:
    levels = 0
    while value is not None:
        levels, value = levels + 1, (value[key] if key is not None else value[0])
    return levels


def test_a_nullable_chain_is_answered_null_from_the_depth_limit_on():
    schema: dict = {"type": ["object", "null"], "properties": {}, "required": []}
    for _ in range(MAX_DEPTH + 3):
        schema = {"type": ["object", "null"], "properties": {"c": schema}, "required": ["c"]}
    assert _nesting(minimal_instance(schema), "c") == MAX_DEPTH  # depths 0 .. MAX_DEPTH - 1 are objects


def test_recursive_schemas_end_at_the_depth_limit_each_level_counted_once_per_step():
    recursive_object = {"type": ["object", "null"], "properties": {"c": {"$ref": "#"}}, "required": ["c"]}
    assert _nesting(minimal_instance(recursive_object), "c") == MAX_DEPTH // 2  # a property and a $ref per level
    recursive_items = {"type": ["array", "null"], "items": {"$ref": "#"}, "minItems": 1}
    assert _nesting(minimal_instance(recursive_items)) == MAX_DEPTH // 2
    recursive_prefix = {"type": ["array", "null"], "prefixItems": [{"$ref": "#"}]}
    assert _nesting(minimal_instance(recursive_prefix)) == MAX_DEPTH // 2


def test_an_array_is_its_prefix_items_then_items_up_to_its_minimum_length():
    schema = {"$defs": {"Flag": {"type": "boolean"}, "Name": {"type": "string", "minLength": 2}},
              "type": "array", "prefixItems": [{"$ref": "#/$defs/Name"}, {"type": "integer"}],
              "items": {"$ref": "#/$defs/Flag"}, "minItems": 4}
    assert minimal_instance(schema) == ["xx", 0, False, False]
    assert minimal_instance({"type": "array", "prefixItems": [{"type": "integer"}], "minItems": 1}) == [0]


def test_an_object_has_its_required_properties_only():
    assert minimal_instance({"type": "object", "properties": {"a": {"type": "integer"}}}) == {}
    assert minimal_instance({"type": "object", "required": ["free"]}) == {"free": None}


def test_scalars_are_the_smallest_values_their_schema_allows():
    cases = [
        ({"type": "string"}, ""), ({"type": "string", "minLength": 3}, "xxx"),
        ({"type": "string", "format": "date"}, FORMATS["date"]),
        ({"type": "integer"}, 0), ({"type": "integer", "exclusiveMinimum": 5}, 6),
        ({"type": "integer", "minimum": 2.5}, 2), ({"type": "number", "minimum": 2.5}, 2.5),
        ({"type": "number", "maximum": -1}, -1), ({"type": "integer", "minimum": 7, "maximum": 9}, 7),
    ]
    for schema, expected in cases:
        value = minimal_instance(schema)
        assert value == expected and type(value) is type(expected), schema
    assert minimal_instance({"type": "boolean"}) is False


def test_local_references_resolve_with_json_pointer_escapes():
    root = {"$defs": {"a/b": {"type": "integer"}, "c~d": {"type": "string"}, "RowX": {"const": 1},
                      "List": [1], "N": 3}}
    assert _resolve("#", root) is root and _resolve("", root) is root
    assert _resolve("#/$defs/a~1b", root) == {"type": "integer"} and _resolve("#/$defs/c~0d", root) == {"type": "string"}
    assert _resolve("#/$defs/RowX", root) == {"const": 1}
    assert _resolve("#/$defs/List/0", root) == {} and _resolve("#/$defs/N", root) == {}


def test_the_unscripted_answer_is_compact_json():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "required": ["a", "b"]}
    assert answer_for(RequestedSchema("answer", schema)) == '{"a":0,"b":""}'


ROWS = RequestedSchema("rows", {"type": "object", "properties": {"rows": {"type": "array", "items": {"type": "integer"}},
                                                                 "name": {"type": "string"}}})
WHERE = "the scripted reply does not match the JSON schema 'rows' the request sent"


def test_a_scripted_answer_that_is_not_json_is_quoted_up_to_80_characters():
    hint = "; script fake.reply_json(...) or matching JSON text"
    assert mismatch(ROWS, "not json") == f"{WHERE}: it is not JSON ('not json'){hint}"
    assert mismatch(ROWS, None) == f"{WHERE}: it is not JSON (''){hint}"
    long_text = "y" * 100
    assert mismatch(ROWS, long_text) == f"{WHERE}: it is not JSON ({long_text[:80]!r}){hint}"


def test_a_mismatch_names_where_and_how_many_more_problems():
    assert mismatch(ROWS, '{"rows": [1, 2]}') is None
    assert mismatch(ROWS, '{"rows": [1, "x"]}') == f"{WHERE}: at ['rows'][1]: 'x' is not of type 'integer'"
    two = mismatch(ROWS, '{"rows": ["x"], "name": 3}')
    assert two.startswith(f"{WHERE}: at ") and two.endswith(" (and 1 more)")
    three = mismatch(ROWS, '{"rows": ["x", "y"], "name": 3}')
    assert three.endswith(" (and 2 more)")
    assert mismatch(ROWS, "[]") == f"{WHERE}: at (root): [] is not of type 'object'"


def test_a_choice_is_null_when_it_allows_null_else_its_first_branch_resolved():
    defs = {"$defs": {"Point": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}}}
    assert minimal_instance({**defs, "anyOf": [{"$ref": "#/$defs/Point"}, {"type": "string"}]}) == {"x": 0}
    assert minimal_instance({**defs, "oneOf": [{"$ref": "#/$defs/Point"}, {"type": "string"}]}) == {"x": 0}
    assert minimal_instance({"anyOf": [{"type": "integer"}, {"type": "null"}]}) is None
    assert minimal_instance({"oneOf": [{"type": "string", "minLength": 1}]}) == "x"


def test_constants_enums_and_merged_parts():
    assert minimal_instance({"const": "fixed", "type": "string"}) == "fixed"
    assert minimal_instance({"enum": ["b", "a"], "type": "string"}) == "b"
    assert minimal_instance({"enum": [], "type": "integer"}) == 0  # an empty enum is no choice: the type decides
    defs = {"$defs": {"Named": {"properties": {"name": {"type": "string"}}, "required": ["name"]}}}
    merged = {**defs, "allOf": [{"$ref": "#/$defs/Named"}, {"type": "object"}]}
    assert minimal_instance(merged) == {"name": ""}
    assert minimal_instance({"properties": {"a": {"type": "integer"}}, "required": ["a"]}) == {"a": 0}
    assert minimal_instance({"items": {"type": "integer"}, "minItems": 1}) == [0]
    assert minimal_instance({"type": ["null", "string"]}) == "" and minimal_instance({"type": ["null"]}) is None
    assert minimal_instance("not a schema") is None and minimal_instance({}) is None


def test_recursion_through_a_choice_or_merged_parts_counts_each_step():
    through_choice = {"type": ["object", "null"], "properties": {"c": {"anyOf": [{"$ref": "#"}]}}, "required": ["c"]}
    assert _nesting(minimal_instance(through_choice), "c") == MAX_DEPTH // 3  # property, choice, $ref per level
    through_parts = {"type": ["object", "null"], "properties": {"c": {"allOf": [{"$ref": "#"}]}}, "required": ["c"]}
    assert _nesting(minimal_instance(through_parts), "c") == MAX_DEPTH // 2  # property, merged parts per level


def test_merged_parts_resolve_their_references_against_the_whole_schema():
    schema = {"$defs": {"Text": {"type": "string", "minLength": 1},
                        "Named": {"type": "object", "properties": {"name": {"$ref": "#/$defs/Text"}}, "required": ["name"]}},
              "allOf": [{"$ref": "#/$defs/Named"}]}
    assert minimal_instance(schema) == {"name": "x"}


def test_a_type_list_of_null_alone_is_null_even_with_properties():
    assert minimal_instance({"type": ["null"], "properties": {"a": {"type": "integer"}}, "required": ["a"]}) is None


def test_a_responses_request_whose_text_is_not_an_object_asks_for_no_schema():
    assert responses_schema({"text": "plain"}) is None and responses_schema({}) is None
    asked = {"text": {"format": {"type": "json_schema", "name": "rows", "schema": {"type": "object"}}}}
    assert responses_schema(asked) == RequestedSchema("rows", {"type": "object"})


def test_a_requested_schema_without_a_name_is_called_response():
    schema = {"type": "object"}
    chat = {"response_format": {"type": "json_schema", "json_schema": {"schema": schema}}}
    assert chat_schema(chat) == RequestedSchema("response", schema)
    assert responses_schema({"text": {"format": {"type": "json_schema", "schema": schema}}}) == RequestedSchema(
        "response", schema)


def test_a_reference_inside_a_referenced_definition_resolves_against_the_whole_schema():
    schema = {"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"const": 1}}, "$ref": "#/$defs/A"}
    assert minimal_instance(schema) == 1
