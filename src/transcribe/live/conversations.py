"""Conversations: created by POST /v1/conversations from an NCCO; their legs join over
WebSockets until the last one leaves (or one with `endOnExit`).

As in Vonage, every call runs its own NCCO, and `conversation` actions with the same `name`
meet in one conversation: an NCCO naming a conversation of its application that is still
open joins it (a `JoinedNcco`, with a legs_url of its own) instead of creating another. The
NCCO's `notify` actions are stored for delivery in the same transaction, in NCCO order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from transcribe.clock import Clock
from transcribe.errors import ConflictError, InvalidParametersError, NotFoundError
from transcribe.ncco import Ncco, parse_ncco
from transcribe.store.access import owned
from transcribe.store.db import Database
from transcribe.store.models import Application, Conversation, JoinedNcco
from transcribe.store.states import ConversationStatus
from transcribe.webhooks import Outbox


@dataclass(frozen=True)
class Created:
    """What POST /v1/conversations made: the conversation the NCCO's legs join, and the
    NCCO's own id where it joined one that was live (None: it created the conversation)."""

    conversation_uuid: str
    ncco_uuid: str | None
    ncco: Ncco


@dataclass
class Conversations:
    db: Database
    clock: Clock
    retention: timedelta
    outbox: Outbox

    def create(self, application_id: str, data: object) -> Created:
        """Store the NCCO: a new conversation, or a join of the live one it names."""
        ncco = parse_ncco(data)
        if not ncco.records and ncco.conversation is None:
            raise InvalidParametersError(
                [("ncco", "needs a record or a conversation action: legs join a conversation")]
            )
        try:
            created, deliveries = self._store(application_id, ncco)
        except IntegrityError:  # another POST opened a conversation of this name meanwhile
            created, deliveries = self._store(application_id, ncco)
        for delivery in deliveries:
            self.outbox.enqueue(delivery)
        return created

    def _store(self, application_id: str, ncco: Ncco) -> tuple[Created, list[str]]:
        stored = [a.model_dump(by_alias=True, exclude_none=True) for a in ncco.actions]
        name = ncco.conversation.name if ncco.conversation else None
        now = self.clock.now()
        with self.db.session() as session:
            application = session.get(Application, application_id)
            assert application is not None
            live = None
            if name is not None:
                live = session.scalars(
                    select(Conversation).where(
                        Conversation.application_id == application_id,
                        Conversation.name == name,
                        Conversation.status == ConversationStatus.OPEN,
                    )
                ).first()
            if live is not None and live.expires_at > now:
                joined = JoinedNcco(
                    conversation_uuid=live.uuid,
                    application_id=application_id,
                    ncco=stored,
                    created_at=now,
                )
                session.add(joined)
                session.flush()
                created = Created(live.uuid, joined.uuid, ncco)
            else:
                if live is not None:  # open but past retention: its name is free again
                    live.status = ConversationStatus.ENDED
                    session.flush()
                conversation = Conversation(
                    application_id=application_id,
                    name=name,
                    ncco=stored,
                    created_at=now,
                    expires_at=now + self.retention,
                )
                session.add(conversation)
                session.flush()
                created = Created(conversation.uuid, None, ncco)
            deliveries = [
                self.outbox.notify(session, application, n.event_url, n.event_method, n.payload)
                for n in ncco.notifications
            ]
        return created, deliveries

    def actions(
        self, application_id: str, conversation_uuid: str, ncco_uuid: str | None = None
    ) -> Ncco:
        """The NCCO a leg runs: the one that created this open conversation of this
        application, or (`ncco_uuid`) one that joined it."""
        with self.db.session() as session:
            conversation = owned(
                session, Conversation, conversation_uuid, application_id, self.clock.now()
            )
            if conversation.status != ConversationStatus.OPEN:
                raise ConflictError("this conversation has ended; create a new one")
            if ncco_uuid is None:
                return parse_ncco(conversation.ncco)
            joined = owned(session, JoinedNcco, ncco_uuid, application_id, self.clock.now())
            if joined.conversation_uuid != conversation.uuid:
                raise NotFoundError(f"no joined ncco {ncco_uuid!r}")
            return parse_ncco(joined.ncco)

    def end(self, conversation_uuid: str) -> None:
        """The conversation is over: its legs_urls take no more legs, and its name is free
        for a new conversation."""
        with self.db.session() as session:
            conversation = session.get(Conversation, conversation_uuid)
            if conversation is not None:
                conversation.status = ConversationStatus.ENDED
