"""transcribe: self-hosted call recording and per-channel transcription analytics."""

__version__ = "0.1.0"
