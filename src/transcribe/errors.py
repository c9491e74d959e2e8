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
