@s3 @task:3.3
Feature: S3 LocalStack fixtures for file storage testing
  Users' datasets, exports and trained models are stored as files in S3. Every test gets a real
  S3 server (LocalStack, or the embedded moto server) and a bucket of its own that starts empty
  and is removed with everything in it afterwards, so file storage is proven against the real
  protocol without ever touching real AWS or a bucket the tests did not create.

  Background:
    Given an empty test bucket for this test

  Scenario: A test gets an S3 client that is ready to use
    Then the storage service answers
    And the client talks only to the configured storage endpoint, real AWS only when explicitly allowed
    And the client gives up after a single attempt with 2 second connect and read timeouts

  Scenario: Every test gets its own empty bucket
    Then the bucket is named after the configured test bucket, this worker and, on a shared server, this run
    And the bucket holds no files
    And the bucket is marked as created by the test fixtures

  Scenario: A sample dataset file is ready in the bucket
    Given the sample CSV dataset has been uploaded
    Then the dataset is stored at "test-data/test_file.csv" with an s3:// address
    And the dataset reads back with 5 rows and the columns "id", "value" and "category"

  Scenario Outline: A file reads back exactly as it was uploaded
    When a <kind> file of <size> bytes is uploaded as "<key>"
    Then downloading "<key>" returns exactly the uploaded bytes

    Examples:
      | kind   | size   | key                       |
      | text   | 64     | uploads/notes.txt         |
      | binary | 300000 | uploads/model.pkl         |
      | empty  | 0      | uploads/empty-marker.flag |

  Scenario: Files are listed by folder, page by page
    Given these files are stored:
      | folder   | count |
      | reports/ | 7     |
      | raw/     | 2     |
    When the files under "reports/" are listed 3 at a time
    Then the listing comes in pages of 3, 3 and 1 files
    And the listing holds the 7 files under "reports/" in name order and nothing else

  Scenario: A deleted file is gone and the others stay
    Given the files "a.csv", "b.csv" and "c.csv" are stored
    When "b.csv" is deleted
    Then "b.csv" no longer exists
    And only "a.csv" and "c.csv" remain

  Scenario: A large file is uploaded in several parts
    When a file of 11 MiB is uploaded as "models/large.bin" in parts of 5 MiB
    Then the upload was completed from 3 parts
    And downloading "models/large.bin" returns exactly the uploaded bytes
    And its ETag is the MD5 of the parts' MD5 digests followed by "-3"

  Scenario: A presigned link lets a plain HTTP client download a file until it expires
    Given the sample CSV dataset has been uploaded
    When a download link valid for 5 minutes is issued for the dataset
    Then a plain HTTP client downloads the dataset through the link
    And a link issued 2 hours ago with a validity of 1 hour is refused as expired

  Scenario: Custom metadata is stored with a file
    When "exports/summary.json" is uploaded with content type "application/json" and the metadata:
      | name       | value        |
      | dataset-id | ds-42        |
      | owner      | test_user_1  |
    Then reading the details of "exports/summary.json" gives back that content type and metadata

  Scenario: A file is copied to a new name
    Given the sample CSV dataset has been uploaded
    When the dataset is copied to "archive/test_file_copy.csv"
    Then both the original and the copy hold the dataset
    And the copy keeps the dataset's content type

  Scenario: With versioning on, earlier versions of a file stay retrievable
    Given versioning is enabled on the bucket
    When "models/model.json" is written with "version one" and then with "version two"
    Then "models/model.json" has 2 versions
    And each version returns its own content and the latest is "version two"

  Scenario: What one test stores in S3 is gone before the next test starts
    Then a test that stores files leaves nothing behind for the test after it

  Scenario: A bucket of the test's own is removed with every version, deleted file and unfinished upload in it
    When a bucket of the test's own holds two versions of a file, a deleted file and an unfinished upload when the test is done with it
    Then that bucket and everything in it are gone from the storage server

  Scenario: A test can have more buckets of its own, kept apart from its test bucket
    Then a test given a second bucket beside its test bucket finds both empty and apart, and both are removed after it

  Scenario Outline: A bucket the fixtures did not create is never emptied or deleted
    Given a bucket "<bucket>" holding a customer file, created outside the test fixtures
    When a test run is pointed at "<bucket>"
    Then that run refuses a name lacking "test-", naming TEST_S3_BUCKET, and else uses a bucket of its own run
    And "<bucket>" and its customer file are untouched

    Examples:
      | bucket                 |
      | customer-uploads       |
      | test-someone-elses-run |
