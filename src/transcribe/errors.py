"""Domain errors: the engine raises these, the HTTP layer maps them to statuses in one place.

Every error carries a message a user can act on. `field` names the input that was wrong
where there is one (a file, an option), so callers can point at it.
"""

from __future__ import annotations


class TranscribeError(Exception):
    """Base of every error this package raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidAudioError(TranscribeError):
    """The audio is empty, truncated, corrupt, or has a shape we do not take."""


class UnsupportedAudioError(TranscribeError):
    """The file is not in a format we can decode (WAV, FLAC, MP3, OGG)."""


class ModelNotFoundError(TranscribeError):
    """The configured model is neither a local CTranslate2 folder nor in the catalogue."""


class UnsupportedLanguageError(TranscribeError):
    """The model cannot transcribe the requested language."""


class InvalidRequestError(TranscribeError):
    """A request or option is malformed or out of range."""


class InvalidParametersError(InvalidRequestError):
    """Some fields of a request are wrong; `problems` names each one with its reason.

    All of them at once, so a caller fixes everything in one round (the HTTP layer turns them
    into `invalid_parameters`). `field` is the first of them.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        message = "; ".join(f"{name}: {reason}" for name, reason in problems)
        super().__init__(message, field=problems[0][0] if problems else None)
        self.problems = problems


class AuthError(TranscribeError):
    """Missing or invalid credentials."""


class NotFoundError(TranscribeError):
    """No such thing, or it belongs to another application (never say which)."""


class ConflictError(TranscribeError):
    """The thing exists but is not in a state that allows this (e.g. not transcribed yet)."""


class PayloadTooLargeError(TranscribeError):
    """An upload is over the configured size limit."""


class UnavailableError(TranscribeError):
    """The service cannot take this now (its disk is nearly full, the application has all
    the live legs it may have); the same request may succeed later, after `retry_after_s`
    seconds where that is known."""

    def __init__(
        self, message: str, *, retry_after_s: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.retry_after_s = retry_after_s


class UnsupportedMediaTypeError(TranscribeError):
    """The request's body is not of the media type the endpoint takes (a raw audio body
    where a multipart form is expected)."""


class HeaderTooLargeError(TranscribeError):
    """A request header is over its size limit; refused before anything reads its value."""
