@task:infrastructure @criterion:graceful-skip @severity:critical
Feature: Tests gracefully skip when services unavailable
  A developer without the test services still gets a quick run in which every service test is skipped with a
  message saying which setting to change; a CI job that requires the services gets a failing run instead.

  Background:
    Given no test service can be reached, each service pointing at a closed port

  Scenario: Every service scenario is skipped with a message naming the setting to change
    When the service features are run
    Then every service scenario is skipped
    And each skip message names the setting of its service

  Scenario: An unreachable service is tried once, however many scenarios need it
    When the service features are run
    Then each unreachable service was tried exactly once
    And the time the whole run took is reported

  Scenario: With the services required, the same run fails instead of skipping
    When the service features are run with the services required
    Then every service scenario fails with a message naming the setting of its service
    And the run ends with a failing exit status
