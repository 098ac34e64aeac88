"""Steps of the OpenAI feature for chat completions: asking the assistant, canned responses, JSON answers, token
usage and answers in order; thin, they drive the real OpenAI SDK against the plugin's fake."""

from __future__ import annotations

import json

from pytest_bdd import given, parsers, then, when

from narrative_fixtures.services.openai.fake import DEFAULT_CONTENT
from steps.openai_support import MODEL, QUOTED, Asked, attempt, canned, openai, quoted, user


# --- scripting an answer ------------------------------------------------------------------------------------
@given(parsers.re(r"the fake API answers with " + QUOTED.format("answer")))
def fake_answers(fake, answer):
    fake.reply(answer)


# --- asking the assistant -----------------------------------------------------------------------------------


@when(parsers.re(r"the assistant is asked " + QUOTED.format("question")), target_fixture="asked")
def ask(openai_client, run_async, question):
    completion, error = run_async(attempt(openai_client.chat.completions.create(model=MODEL, messages=user(question))))
    return Asked(question, completion, error)


@when(parsers.re(r"the assistant is asked {} using model {}".format(QUOTED.format("question"), QUOTED.format("model"))), target_fixture="asked")
def ask_model(openai_client, run_async, question, model):
    completion = run_async(openai_client.chat.completions.create(model=model, messages=user(question)))
    return Asked(question, completion)


@then(parsers.re(r"the answer is a complete chat completion from model " + QUOTED.format("model")))
def complete_answer(asked, model):
    answer = asked.completion
    assert isinstance(answer, openai.types.chat.ChatCompletion)
    assert answer.id.startswith("chatcmpl-") and answer.object == "chat.completion" and answer.created > 0
    assert answer.model == model
    [choice] = answer.choices
    assert choice.index == 0 and choice.finish_reason == "stop"
    assert choice.message.role == "assistant" and choice.message.content and choice.message.tool_calls is None
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
    assert answer._request_id and answer._request_id.startswith("req_")


@then(parsers.re(r"the fake API received the question as the last user message for model " + QUOTED.format("model")))
def received_question(fake, asked, model):
    [entry] = fake.chat_requests
    assert entry.method == "POST" and entry.model == model
    assert entry.messages[-1] == {"role": "user", "content": asked.question}


# --- canned responses ---------------------------------------------------------------------------------------


@then("there are canned responses for data summarization, model recommendation and error diagnosis")
def canned_kinds(test_openai_response):
    assert set(test_openai_response) == {"data_summarization", "model_recommendation", "error_diagnosis"}
    assert all(isinstance(text, str) and len(text) > 80 for text in test_openai_response.values())
    assert json.loads(test_openai_response["model_recommendation"])["recommended_model"]


@then(parsers.re(r"every canned response is about the sample dataset with the columns (?P<columns>.+)"))
def canned_about_dataset(test_openai_response, columns):
    names = quoted(columns)
    assert all(name in test_openai_response["data_summarization"] for name in names)
    for kind, text in test_openai_response.items():
        assert any(name in text for name in names), f"the canned {kind} response names none of {names}"


@given(parsers.re(r"the fake API answers with the canned (?P<kind>[a-z ]+) response"))
def fake_answerscanned(fake, test_openai_response, kind):
    fake.reply(test_openai_response[canned(kind)])


@when(parsers.re(r"the backend asks for a summary of the dataset with the columns (?P<columns>.+)"), target_fixture="asked")
def ask_summary(openai_client, run_async, columns):
    names = quoted(columns)
    messages = [
        {"role": "system", "content": "You are a data analyst. Summarise datasets for non-experts."},
        {"role": "user", "content": f"Summarise this dataset. Columns: {', '.join(names)}. Rows: 5."},
    ]
    completion = run_async(openai_client.chat.completions.create(model=MODEL, messages=messages))
    return Asked(messages[-1]["content"], completion)


@then(parsers.re(r"the summary says the dataset has (?P<rows>\d+) rows and (?P<columns>\d+) columns"))
def summary_shape(asked, rows, columns):
    assert f"{rows} rows and {columns} columns" in asked.completion.choices[0].message.content


@then(parsers.re(r"the fake API received a system instruction and the columns (?P<columns>.+)"))
def summary_prompt(fake, columns):
    [entry] = fake.chat_requests
    assert [message["role"] for message in entry.messages] == ["system", "user"]
    assert all(name in entry.messages[-1]["content"] for name in quoted(columns))


@when(parsers.re(r"the backend asks for a model recommendation as JSON for the target " + QUOTED.format("target")), target_fixture="asked")
def ask_recommendation(openai_client, run_async, target):
    question = f"Recommend a model to predict '{target}'. Answer as a JSON object."
    completion = run_async(
        openai_client.chat.completions.create(
            model=MODEL, messages=user(question), response_format={"type": "json_object"}
        )
    )
    return Asked(question, completion)


@then(parsers.re(r"the recommendation names the model {} for a {} task".format(QUOTED.format("model"), QUOTED.format("task"))))
def recommendation(asked, model, task):
    parsed = json.loads(asked.completion.choices[0].message.content)
    assert (parsed["recommended_model"], parsed["task"]) == (model, task)
    assert 0 < parsed["confidence"] <= 1


@then("the fake API was asked for a JSON object answer")
def asked_for_json(fake):
    assert fake.chat_requests[-1].body["response_format"] == {"type": "json_object"}


# --- token usage --------------------------------------------------------------------------------------------


@then(parsers.re(r"the usage reports (?P<prompt>\d+) prompt tokens, (?P<completion>\d+) completion tokens and (?P<total>\d+) in total"))
def usage_reported(asked, prompt, completion, total):
    usage = asked.completion.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (int(prompt), int(completion), int(total))


# --- sequences ----------------------------------------------------------------------------------------------


@given(parsers.re(r'the fake API answers with (?P<answers>"[^"]*"(?:(?:, | and )"[^"]*")+) in that order'))
def fake_answers_in_order(fake, answers):
    fake.script(*quoted(answers))


@when(parsers.re(r"the assistant is asked (?P<count>\d+) questions in a row"), target_fixture="asked")
def ask_several(openai_client, run_async, count):
    questions = [f"Question {number}" for number in range(1, int(count) + 1)]
    completions = [
        run_async(openai_client.chat.completions.create(model=MODEL, messages=user(question))) for question in questions
    ]
    return Asked(completions=completions, questions=questions)


@then(parsers.re(r"the answers are (?P<answers>.+) and the fake API's standard answer"))
def answers_in_order(asked, answers):
    received = [completion.choices[0].message.content for completion in asked.completions]
    assert received == [*quoted(answers), DEFAULT_CONTENT]


@then(parsers.re(r"the fake API received the (?P<count>\d+) questions in the order they were asked"))
def questions_in_order(fake, asked, count):
    assert [entry.messages[-1]["content"] for entry in fake.chat_requests] == asked.questions
    assert len(asked.questions) == int(count)
