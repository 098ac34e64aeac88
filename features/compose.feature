@task:infrastructure @criterion:compose
Feature: Docker Compose configuration for test services
  Developers and CI start the story's test services with one command: MongoDB 7.0, Redis 7 with a password and
  LocalStack for S3, each with a health check and a volume of its own, on a network of their own, on the test
  ports and with the credentials that the fixtures' external mode expects by default.

  Background:
    Given the repository's Docker Compose file for the test services

  Scenario: The file follows the Compose specification
    Then it is valid according to the Compose specification

  Scenario Outline: <service> runs the server the story asks for, where the fixtures expect it
    Then the service "<service>" runs the image "<image>"
    And it publishes the port that <setting> points at by default
    And it reports itself healthy only through a health check
    And it keeps its data in a named volume and joins the test network

    Examples:
      | service      | image                 | setting          |
      | mongodb-test | mongo:7.0             | TEST_MONGODB_URI |
      | redis-test   | redis:7               | TEST_REDIS_URL   |
      | localstack   | localstack/localstack | S3_ENDPOINT_URL  |

  Scenario: The services accept the credentials the fixtures use by default
    Then MongoDB's root user and password are those of the default TEST_MONGODB_URI
    And MongoDB's initial database is the default TEST_MONGODB_DB
    And Redis requires the password of the default TEST_REDIS_URL
    And LocalStack is given the default AWS keys and region of the S3 fixtures

  Scenario: Docker itself accepts the file
    Then "docker compose config" accepts the file
