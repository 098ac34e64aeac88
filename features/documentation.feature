@task:infrastructure @criterion:documentation
Feature: Comprehensive documentation
  A developer looks up every fixture and every setting in one reference, generated from the code itself, so the
  reference cannot drift from what the plugin really does.

  Scenario: The committed fixture reference is up to date
    When the fixture reference is generated from the plugin
    Then it is identical to the committed docs/fixtures.md

  Scenario: Every fixture the plugin registers is documented
    Then every fixture the plugin registers is described in the fixture reference

  Scenario: Every fixture explains in one to three lines what it gives
    Then every fixture the plugin registers has a docstring of one to three lines

  Scenario: Every setting is documented with its environment variable and option
    Then every setting's environment variable and command-line option appear in the fixture reference

  Scenario: The README's configuration table lists every setting as the code defines it
    When the README's configuration table is generated from the settings
    Then it is identical to the table in the committed README
