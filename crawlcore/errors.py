"""Errors of the pure core.

    CoreError
     ├── InvalidParameter   a request parameter is malformed; names the parameter
     └── InvalidTransition  a job-control action that makes no sense in the crawl's status

Adapters map these to their own surface (the controller: HTTP 400 with the message).
"""

from __future__ import annotations

__all__ = ["CoreError", "InvalidParameter", "InvalidTransition"]


class CoreError(Exception):
    """Base of every error the core raises."""


class InvalidParameter(CoreError):
    """A parameter is missing or malformed.

    >>> str(InvalidParameter("maxHops", "must be an integer, got 'abc'"))
    "Invalid parameter maxHops: must be an integer, got 'abc'"
    """

    def __init__(self, param: str, problem: str) -> None:
        super().__init__(f"Invalid parameter {param}: {problem}")
        self.param = param
        self.problem = problem


class InvalidTransition(CoreError):
    """A job-control action is not possible in the crawl's current status."""
