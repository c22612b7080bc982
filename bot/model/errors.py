"""Errors that reach the user as one clear message, and the exit statuses covbot uses."""

from __future__ import annotations

EXIT_PASSED = 0
EXIT_GATE_FAILED = 1
EXIT_INPUT_ERROR = 2
#: The report was computed and written, but publishing it (comment, status) failed.
EXIT_PUBLISH_FAILED = 3


class CovbotError(Exception):
    """An error the user can act on.

    ``message`` says what is wrong (naming the file, command or API call), ``hint``
    what to do about it. Never shown with a traceback.
    """

    exit_code = EXIT_INPUT_ERROR

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class UsageError(CovbotError):
    """Wrong command-line usage or configuration."""


class InputError(CovbotError):
    """An input file (coverage data, JUnit, report) is missing or malformed."""


class GitError(CovbotError):
    """A git command failed or the repository lacks what covbot needs."""


class TestRunError(CovbotError):
    """The test command could not be run (not found, crashed, timed out)."""


class PublishError(CovbotError):
    """Talking to the GitHub API failed."""

    exit_code = EXIT_PUBLISH_FAILED
