"""Plain data: numbers, coverage, the diff, the report and its (de)serialiser; settings."""
