"""Live calls: conversations created from NCCOs (`Conversations`), their legs streaming
Vonage-framed audio (`framing`) into the recording engine (`LiveCalls`)."""

from transcribe.live.calls import BATCH_S, LiveCall, LiveCalls
from transcribe.live.conversations import Conversations

__all__ = ["BATCH_S", "Conversations", "LiveCall", "LiveCalls"]
