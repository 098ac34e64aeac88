"""Steps of the OpenAI feature for streamed chat answers and tool calls: thin, they drive the real OpenAI SDK
against the plugin's fake."""

from __future__ import annotations

from pydantic import BaseModel
from pytest_bdd import given, parsers, then, when

from steps.openai_support import MODEL, QUOTED, Asked, openai, quoted, user


# --- streaming ----------------------------------------------------------------------------------------------
@when(parsers.re(r"the assistant streams its answer to {} with usage reporting".format(QUOTED.format("question"))), target_fixture="asked")
def ask_streaming(openai_client, run_async, question):
    async def collect():
        stream = await openai_client.chat.completions.create(
            model=MODEL, messages=user(question), stream=True, stream_options={"include_usage": True}
        )
        return [chunk async for chunk in stream]

    return Asked(question, chunks=run_async(collect()))


@then(parsers.re(r"the answer arrived in (?P<count>\d+) chunks of text"))
def chunk_count(asked, count):
    assert all(isinstance(chunk, openai.types.chat.ChatCompletionChunk) for chunk in asked.chunks)
    texts = [chunk.choices[0].delta.content for chunk in asked.chunks if chunk.choices and chunk.choices[0].delta.content]
    assert len(texts) == int(count)


@then(parsers.re(r"the chunks reassemble into " + QUOTED.format("text")))
def chunks_reassemble(asked, text):
    assert "".join(chunk.choices[0].delta.content or "" for chunk in asked.chunks if chunk.choices) == text
    assert len({chunk.id for chunk in asked.chunks}) == 1, "every chunk belongs to the same completion"


@then(
    parsers.re(
        r'the stream ended with finish reason "(?P<reason>\w+)" and a usage report of (?P<prompt>\d+) prompt'
        r" and (?P<completion>\d+) completion tokens"
    )
)
def stream_end(asked, reason, prompt, completion):
    *content, finish, usage = asked.chunks
    assert finish.choices[0].finish_reason == reason and finish.usage is None
    assert all(chunk.choices[0].finish_reason is None for chunk in content)
    assert usage.choices == [] and (usage.usage.prompt_tokens, usage.usage.completion_tokens) == (int(prompt), int(completion))


# --- tool calling -------------------------------------------------------------------------------------------


class GetDatasetStats(BaseModel):
    """Compute summary statistics of some columns of a dataset."""

    dataset_id: str
    columns: list[str]


@given(
    parsers.re(
        r"the fake API calls the tool {} for the dataset {} and the columns (?P<columns>.+)".format(
            QUOTED.format("tool"), QUOTED.format("dataset")
        )
    )
)
def fake_calls_tool(fake, tool, dataset, columns):
    fake.reply_with_tool_call(tool, {"dataset_id": dataset, "columns": quoted(columns)})


@when(parsers.re(r"the assistant is asked {} offering the tool {}".format(QUOTED.format("question"), QUOTED.format("tool"))), target_fixture="asked")
def ask_with_tool(openai_client, run_async, question, tool):
    tools = [openai.pydantic_function_tool(GetDatasetStats, name=tool)]
    completion = run_async(openai_client.chat.completions.parse(model=MODEL, messages=user(question), tools=tools))
    return Asked(question, completion, details={"tools": tools})


@then(parsers.re(r"the answer is a call of {} with finish reason {}".format(QUOTED.format("tool"), QUOTED.format("reason"))))
def tool_called(asked, fake, tool, reason):
    [choice] = asked.completion.choices
    assert choice.finish_reason == reason and choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.function.name == tool and call.id.startswith("call_")
    assert fake.chat_requests[-1].body["tools"][0]["function"]["name"] == tool  # the declaration reached the API


@then(parsers.re(r"its arguments parse into the declared parameters: dataset {}, columns (?P<columns>.+)".format(QUOTED.format("dataset"))))
def tool_arguments(asked, dataset, columns):
    [call] = asked.completion.choices[0].message.tool_calls
    assert isinstance(call.function.arguments, str), "arguments travel as a JSON string"
    expected = GetDatasetStats(dataset_id=dataset, columns=quoted(columns))
    assert call.function.parsed_arguments == expected
    assert GetDatasetStats.model_validate_json(call.function.arguments) == expected
