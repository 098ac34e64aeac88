@mongodb @task:3.1
Feature: MongoDB fixtures with Beanie ODM integration
  The backend keeps uploaded datasets, the models trained on them and its batch jobs in MongoDB through
  the Beanie ODM. Every test gets a real MongoDB-compatible server and a test database of its own with
  the application's documents registered, empty when the test starts and emptied again afterwards.

  Background:
    Given a clean test database with the application's documents registered

  Scenario: The application's documents are ready to use in an empty test database
    Then the test database is named for tests and holds no documents
    And uploaded datasets, trained models and batch jobs can each be stored and found again

  Scenario: A test gets a working connection to the database server
    Then the database server answers
    And the database server is the one the run reports, named honestly

  Scenario: An uploaded dataset is stored with its owner, file and schema
    Given an uploaded dataset
    Then the dataset can be read back with its owner, file location and 5 rows
    And its schema describes the columns "id" as integer, "value" as float and "category" as string
    When the dataset's description is changed
    Then the stored dataset shows the new description
    When the uploaded dataset is deleted
    Then the uploaded dataset can no longer be found

  Scenario: A trained model knows the dataset it was trained on
    Given a model trained on the uploaded dataset
    Then the model's dataset resolves to the uploaded dataset
    And the model is stored with camelCase field names:
      | field              |
      | userId             |
      | modelType          |
      | targetColumn       |
      | featureColumns     |
      | performanceMetrics |
      | isActive           |
      | createdAt          |
    And the models trained on the uploaded dataset can be listed

  Scenario: A batch job moves from pending to completed and reports its progress
    Given a pending batch job
    When a worker takes the next pending job
    Then the job is running for that worker and has a start time
    When the worker reports 40 percent done
    And the worker reports 75 percent done
    Then the job is stored as "running" at 75 percent
    When the worker completes the job
    Then the job is stored as "completed" at 100 percent
    And the job cannot be started again

  Scenario: Workers taking jobs at the same time never take the same job
    Given 12 pending batch jobs
    When 30 workers take jobs at the same time until none is left
    Then every job was taken by exactly one worker
    And all 12 jobs are running

  Scenario: What one test stores in the database is gone before the next test starts
    Then a test that stores documents leaves nothing behind for the test after it

  Scenario Outline: A <document> goes through a full create, read, update and delete cycle
    When a <document> is created
    Then the <document> can be read back as it was stored
    When the <document> is updated
    Then the <document> shows the update when read again
    When the <document> is deleted
    Then no <document> is left in the database

    Examples:
      | document      |
      | dataset       |
      | trained model |
      | batch job     |

  Scenario: Datasets can be filtered, sorted, counted and summarised by category
    Given these uploaded datasets:
      | file             | category  | rows |
      | q1_sales.csv     | sales     | 1200 |
      | q2_sales.csv     | sales     | 800  |
      | campaigns.csv    | marketing | 150  |
      | budget.csv       | finance   | 90   |
      | forecast.csv     | finance   | 400  |
    Then the datasets in category "finance" are "budget.csv" and "forecast.csv"
    And sorted by rows, largest first, the datasets are:
      | file          |
      | q1_sales.csv  |
      | q2_sales.csv  |
      | forecast.csv  |
      | campaigns.csv |
      | budget.csv    |
    And 3 datasets have at least 400 rows
    And per category, the datasets and their rows add up to:
      | category  | datasets | rows |
      | finance   | 2        | 490  |
      | marketing | 1        | 150  |
      | sales     | 2        | 2000 |

  Scenario: A dataset, a model trained on it and a training job work together
    Given an uploaded dataset
    And a model trained on the uploaded dataset
    And a pending batch job
    When the job is pointed at the trained model and completed with its accuracy
    Then the database holds exactly 1 dataset, 1 trained model and 1 batch job
    And the dataset, the model and the job all belong to the same user
    And the completed job's result names the model, whose dataset is the uploaded dataset
