"""Speech recognition: per-channel Whisper inference with faster-whisper (CTranslate2)."""

from transcribe.asr.models import ResolvedModel, resolve_model
from transcribe.asr.transcriber import Transcriber

__all__ = ["ResolvedModel", "Transcriber", "resolve_model"]
