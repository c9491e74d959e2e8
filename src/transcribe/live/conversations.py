"""Conversations: created by POST /v1/conversations from an NCCO; their legs join over
WebSockets until the last one leaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from transcribe.clock import Clock
from transcribe.errors import ConflictError, InvalidParametersError
from transcribe.ncco import ConversationAction, RecordAction, parse_ncco
from transcribe.store.access import owned
from transcribe.store.db import Database
from transcribe.store.models import Conversation
from transcribe.store.states import ConversationStatus


@dataclass
class Conversations:
    db: Database
    clock: Clock
    retention: timedelta

    def create(self, application_id: str, ncco: object) -> str:
        """Store a conversation whose legs will join over WebSockets; returns its uuid."""
        actions = parse_ncco(ncco)
        if not any(isinstance(a, RecordAction) or a.record for a in actions):
            raise InvalidParametersError(
                [("ncco", "needs a record action or a conversation with record: true")]
            )
        now = self.clock.now()
        with self.db.session() as session:
            conversation = Conversation(
                application_id=application_id,
                ncco=[a.model_dump(by_alias=True, exclude_none=True) for a in actions],
                created_at=now,
                expires_at=now + self.retention,
            )
            session.add(conversation)
            session.flush()
            return conversation.uuid

    def actions(
        self, application_id: str, conversation_uuid: str
    ) -> list[RecordAction | ConversationAction]:
        """The actions of an open conversation of this application."""
        with self.db.session() as session:
            conversation = owned(
                session, Conversation, conversation_uuid, application_id, self.clock.now()
            )
            if conversation.status != ConversationStatus.OPEN:
                raise ConflictError("this conversation has ended; create a new one")
            return parse_ncco(conversation.ncco)

    def end(self, conversation_uuid: str) -> None:
        with self.db.session() as session:
            conversation = session.get(Conversation, conversation_uuid)
            if conversation is not None:
                conversation.status = ConversationStatus.ENDED
