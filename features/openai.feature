@openai @task:3.4
Feature: OpenAI API mocking fixtures
  The backend asks OpenAI to summarise datasets, recommend models and diagnose failed jobs. Tests never
  call the real OpenAI API: the real OpenAI SDK talks to a local fake API that answers what the test
  scripted and remembers what it was asked, or the chat completion call itself is mocked in-process.
  Either way the answers look exactly like OpenAI's, so the backend cannot tell the difference.

  Background:
    Given a fake OpenAI API for this test

  Scenario: A test gets an OpenAI client that is ready and only talks to the fake API
    Then the OpenAI client reaches the fake API, never the real one
    And the fake API lists the models "gpt-4o", "gpt-4" and "gpt-3.5-turbo"
    And the fake API received a test key, never a real one
    And a synchronous OpenAI client gets its answers from the same fake API

  Scenario: A test gets a mocked chat completion call that behaves like the real one
    Given a mocked OpenAI client
    Then the mocked chat completion returns a complete completion with choices, usage and model
    And a misspelled argument or attribute of the mocked client fails instead of passing

  Scenario: A chat completion answers with a complete response
    When the assistant is asked "Which columns does my dataset have?" using model "gpt-4"
    Then the answer is a complete chat completion from model "gpt-4"
    And the fake API received the question as the last user message for model "gpt-4"

  Scenario: Canned responses cover the backend's three AI features
    Then there are canned responses for data summarization, model recommendation and error diagnosis
    And every canned response is about the sample dataset with the columns "id", "value" and "category"

  Scenario: A dataset summary request carries the dataset and gets the summary back
    Given the fake API answers with the canned data summarization response
    When the backend asks for a summary of the dataset with the columns "id", "value" and "category"
    Then the summary says the dataset has 5 rows and 3 columns
    And the fake API received a system instruction and the columns "id", "value" and "category"

  Scenario: A model recommendation arrives as JSON the backend can use
    Given the fake API answers with the canned model recommendation response
    When the backend asks for a model recommendation as JSON for the target "value"
    Then the recommendation names the model "random_forest" for a "regression" task
    And the fake API was asked for a JSON object answer

  Scenario Outline: Each API failure surfaces as the SDK's own exception
    Given the fake API answers the next request with <failure>
    When the assistant is asked "Summarise my dataset" without retries and with a 0.3 second timeout
    Then the call fails with the SDK's <exception>
    And the fake API received exactly 1 request

    Examples:
      | failure                            | exception           |
      | an invalid API key error (401)     | AuthenticationError |
      | a rate limit error (429)           | RateLimitError      |
      | a server error (500)               | InternalServerError |
      | a response slower than the timeout | APITimeoutError     |

  Scenario Outline: Rate limits and server errors are retried by the SDK until the answer arrives
    Given the fake API answers the next request with <failure>
    When the assistant is asked "Summarise my dataset"
    Then the answer is the fake API's standard answer
    And the fake API received 2 requests, answered <first> then 200

    Examples:
      | failure                  | first |
      | a rate limit error (429) | 429   |
      | a server error (500)     | 500   |

  Scenario: A streamed answer arrives in chunks that reassemble into the full text
    Given the fake API answers with "Revenue grew 12% in Q3, driven by the new enterprise plan."
    When the assistant streams its answer to "How did revenue change?" with usage reporting
    Then the answer arrived in 11 chunks of text
    And the chunks reassemble into "Revenue grew 12% in Q3, driven by the new enterprise plan."
    And the stream ended with finish reason "stop" and a usage report of 12 prompt and 15 completion tokens

  Scenario: A tool call parses into the declared function's arguments
    Given the fake API calls the tool "get_dataset_stats" for the dataset "ds-42" and the columns "value" and "category"
    When the assistant is asked "Describe dataset ds-42" offering the tool "get_dataset_stats"
    Then the answer is a call of "get_dataset_stats" with finish reason "tool_calls"
    And its arguments parse into the declared parameters: dataset "ds-42", columns "value" and "category"

  Scenario Outline: Token usage follows the documented counting rule
    Given the fake API answers with "<answer>"
    When the assistant is asked "<question>"
    Then the usage reports <prompt> prompt tokens, <completion> completion tokens and <total> in total

    Examples:
      | question                          | answer                                | prompt | completion | total |
      | Hello                             | Hi there!                             | 8      | 3          | 11    |
      | Summarise the uploaded dataset.   | The dataset has 5 rows.               | 14     | 6          | 20    |
      | Which model fits a numeric target | A random forest fits a numeric target | 15     | 10         | 25    |

  Scenario: Scripted answers are served in order, then the standard answer
    Given the fake API answers with "first", "second" and "third" in that order
    When the assistant is asked 4 questions in a row
    Then the answers are "first", "second", "third" and the fake API's standard answer
    And the fake API received the 4 questions in the order they were asked

  Scenario Outline: The mocked client serves a canned response to the backend
    Given a mocked OpenAI client answering with the canned <kind> response
    When the backend asks the mocked client "<question>"
    Then the backend receives the canned <kind> response
    And the mocked call was awaited once with model "gpt-4" and that question

    Examples:
      | kind                 | question                               |
      | data summarization   | Summarise the uploaded dataset.        |
      | model recommendation | Which model should I train on 'value'? |
      | error diagnosis      | Why did training job 42 fail?          |

  Scenario Outline: A client not pointed at the fake cannot reach the real OpenAI API
    When code under test calls OpenAI with a client <configured>
    Then the call is refused with a message saying to use the openai_client fixture
    And no request left this machine and no real key was used

    Examples:
      | configured                             |
      | built with the default settings        |
      | pointed explicitly at api.openai.com   |

  Scenario: A project makes a second fake OpenAI API from the plugin's factories, isolated from the first
    Given a second fake OpenAI API and its client, made from the plugin's factories
    When the run's fake answers "from the run's fake" and the second fake answers "from the second fake"
    Then the clients get "from the run's fake" and "from the second fake", and each fake recorded only its own request

  Scenario: What one test scripts or records is gone before the next test starts
    Then a test that scripts the fake API leaves nothing behind for the test after it

  @api:responses
  Scenario: A question to the Responses API gets a complete answer that can be fetched again
    Given the fake API answers with "The dataset has 5 rows and 3 columns."
    When the backend asks the Responses API "Summarise my dataset" with the instruction "You summarise datasets."
    Then the Responses API answers "The dataset has 5 rows and 3 columns." from model "gpt-4o-mini"
    And the usage reports 20 input tokens, 10 output tokens and 30 in total
    And the answer can be fetched again by its id

  @api:responses
  Scenario: A tool call on the Responses API goes through the backend's function and back
    Given the fake API calls the tool "get_dataset_stats" for the dataset "ds-42" and the columns "value" and "category"
    And the fake API answers with "Dataset ds-42 has 5 rows and 3 columns."
    When the backend asks the Responses API "Describe dataset ds-42" offering the tool "get_dataset_stats" and sends back what the tool returned
    Then the Responses API answers "Dataset ds-42 has 5 rows and 3 columns."
    And the tool was called for the dataset "ds-42" and the fake API received its result, chained to its first answer

  @api:responses
  Scenario: A streamed Responses API answer arrives as the SDK's typed events
    Given the fake API answers with "Revenue grew 12% in Q3, driven by the new enterprise plan."
    When the backend streams the Responses API's answer to "How did revenue change?"
    Then the events run from "response.created" through the text deltas to "response.completed"
    And the text deltas reassemble into "Revenue grew 12% in Q3, driven by the new enterprise plan."

  @capability:structured_output
  Scenario Outline: A structured answer parses into the backend's own model, even when nothing was scripted
    When the backend asks the <api> for a recommendation parsed into its own model
    Then the recommendation is an instance of the backend's model
    And the fake API was asked for an answer following the model's JSON schema

    Examples:
      | api                  |
      | chat completions API |
      | Responses API        |

  @capability:structured_output
  Scenario: A scripted structured answer that fits the backend's model arrives as scripted
    Given the fake API answers with the recommendation "random_forest" for a "regression" task as JSON
    When the backend asks the Responses API for a recommendation parsed into its own model
    Then the parsed recommendation names the model "random_forest" for a "regression" task

  @capability:structured_output
  Scenario: A scripted structured answer that does not fit the backend's model fails the test, not the backend
    Given the fake API answers with the recommendation "support_vector_machine" for a "regression" task as JSON
    When the backend asks the Responses API for a recommendation parsed into its own model
    Then the call fails at once, saying the scripted answer does not match the schema "Recommendation" at "model"

  @api:responses
  Scenario: A rate limit that says when to retry is retried by the SDK until the answer arrives
    Given the fake API limits the rate of the next request and asks to retry after 10 milliseconds
    When the backend asks the Responses API "Summarise my dataset"
    Then the Responses API answers the fake API's standard answer
    And the SDK asked again after the rate limit: 2 requests, answered 429 then 200
    And the SDK waited the 10 milliseconds asked for before asking again, not its own back-off of half a second

  @api:embeddings
  Scenario: Texts the backend embeds get vectors it can compare, the same text always the same vector
    When the backend embeds "Sales rose in Q3", "Sales rose in Q3" and "Churn fell in May" with model "text-embedding-3-small"
    Then each text gets a vector of 1536 numbers of length 1
    And the same text gets the same vector and different texts get different vectors
    And the usage reports 13 tokens for the 3 texts, all received in one request

  @api:embeddings
  Scenario Outline: Each embedding model gives vectors of its own size, or of the size the backend asks for
    When the backend embeds "Revenue by region" with model "<model>" <size>
    Then each text gets a vector of <numbers> numbers of length 1

    Examples:
      | model                  | size                     | numbers |
      | text-embedding-3-small | at its standard size     | 1536    |
      | text-embedding-3-large | at its standard size     | 3072    |
      | text-embedding-ada-002 | at its standard size     | 1536    |
      | text-embedding-3-large | shortened to 256 numbers | 256     |

  @api:unserved
  Scenario: A part of the OpenAI API the fake does not serve says so plainly, not like a wrong address
    When the backend uploads a file to the OpenAI API
    Then the call fails with the SDK's NotFoundError
    And the error says the fake OpenAI API does not serve "POST /v1/files" and lists "POST /v1/embeddings" among what it serves
    And the fake API recorded the upload with its answer 404
