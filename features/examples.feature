@task:infrastructure @criterion:examples @severity:critical
Feature: Integration test examples for each fixture type
  Every fixture the story promises, and every other fixture the plugin offers, is shown at work in at least one
  passing example. The examples are the scenarios of this very run: these checks run last and read, for every
  other scenario, whether it passed and which fixtures it really used, as pytest recorded them, not listed by
  hand. A service whose scenarios were not selected in this run leaves its fixtures NOT verified.

  Background:
    Given every other scenario selected in this run has finished

  Scenario Outline: The story's fixture <fixture> is shown at work in a passing example
    Then the fixture "<fixture>" is used by at least one passing example

    Examples: MongoDB (Task 3.1)
      | fixture            |
      | setup_database     |
      | mongo_client       |
      | test_user_data     |
      | test_trained_model |
      | test_batch_job     |

    Examples: Redis (Task 3.2)
      | fixture        |
      | redis_client   |
      | test_redis_job |

    Examples: S3 (Task 3.3)
      | fixture        |
      | s3_client      |
      | test_s3_bucket |
      | test_s3_file   |

    Examples: OpenAI (Task 3.4)
      | fixture              |
      | mock_openai          |
      | test_openai_response |

  Scenario: Every other fixture the plugin offers is shown at work in a passing example
    Then every fixture the plugin registers is used by at least one passing example

  Scenario: The examples cover every service and none of them fails
    Then every service has passing examples
    And no example failed
