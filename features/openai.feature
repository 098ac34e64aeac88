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
