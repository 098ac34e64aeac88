@redis @task:3.2
Feature: Redis fixtures for background job testing
  The backend runs model training and data processing as background jobs queued in Redis.
  Every test gets a real Redis server and a database of its own that starts empty and is
  emptied again afterwards, so job-queue behaviour is proven against the real thing.

  Background:
    Given a Redis database for this test

  Scenario: A test gets a Redis connection that is ready to use
    Then the Redis server answers
    And the Redis server is a real redis-server of version 7 or newer

  Scenario: Every test starts with an empty Redis database
    Then the Redis database holds no keys

  Scenario: A queued job is stored with all its details
    Given a pending training job has been queued
    Then the job is waiting in the job queue
    And the job's details can be read back exactly as they were queued

  Scenario: A queued job carries what a worker needs to start it
    Given a pending training job has been queued
    Then the job is a "model_training" job of user "test_user_123" on dataset "test_dataset_456"
    And the job is pending at 0 percent, with the model it trains and the time it was queued
    And every queued job has an id of its own

  Scenario: Jobs are picked up in the order they were queued
    When the jobs "first", "second" and "third" are queued on "job_queue"
    Then workers take the jobs from "job_queue" in the order "first", "second" and "third"
    And "job_queue" is empty afterwards

  Scenario: A worker can update a job's status and progress
    Given a pending training job has been queued
    When a worker marks the job "running" at 40 percent
    And a worker marks the job "completed" at 100 percent
    Then the stored job shows status "completed" and progress 100

  Scenario: A job result disappears when its time to live runs out
    When a job result is stored with a time to live of 200 milliseconds
    Then the job result is readable while it is fresh
    And the job result is gone once its time to live has passed

  Scenario: Separate queues keep their jobs apart
    When the jobs "train-a" and "train-b" are queued on "training_queue"
    And the jobs "export-a", "export-b" and "export-c" are queued on "export_queue"
    Then "training_queue" holds 2 jobs and "export_queue" holds 3 jobs
    And workers take the jobs from "export_queue" in the order "export-a", "export-b" and "export-c"

  Scenario: Urgent jobs are picked up before routine ones
    When jobs are queued with these priorities:
      | job     | priority |
      | routine | 1        |
      | urgent  | 10       |
      | normal  | 5        |
    Then workers take the prioritised jobs in the order "urgent", "normal" and "routine"

  Scenario: A published job update reaches its subscribers
    Given a subscriber listening on "job_updates"
    When the update "job-1 completed" is published on "job_updates"
    Then the subscriber receives "job-1 completed"

  Scenario: The application under test finds the test Redis through its own settings
    Given the application reads its Redis address from the environment the run gives it
    When the application queues a job through its own connection
    Then the job is waiting in the job queue

  Scenario: What one test writes to Redis is gone before the next test starts
    Then a test that writes to Redis leaves nothing behind for the test after it

  Scenario: A project adds Redis databases and servers of its own, kept apart from the story's
    When a project adds a Redis database and a Redis server of its own with the plugin's factories
    Then each of them starts empty for every test and keeps its keys apart from the others
