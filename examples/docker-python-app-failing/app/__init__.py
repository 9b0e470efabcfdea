"""The example app Kiln's docker reference template builds: a greeting service in one function."""

from kiln_greeting import greeting


def welcome(user: str) -> str:
    """The greeting shown to a signed-in user; anonymous users are greeted as guests."""
    return greeting(user.strip() or "guest")
