"""transcribe: self-hosted call recording and per-channel transcription analytics."""

__version__ = "0.1.0"

from transcribe.threads import limit_library_threads

# Before numpy and CTranslate2 load their thread pools: see threads.py.
limit_library_threads()
