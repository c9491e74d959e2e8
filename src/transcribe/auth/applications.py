"""Applications: each registers an RSA public key (its tokens' signer) and gets a signature
secret (our webhooks' signer) and, optionally, a default event URL."""

from __future__ import annotations

from dataclasses import dataclass

from transcribe.auth.signing import new_signature_secret
from transcribe.auth.tokens import load_public_key
from transcribe.clock import Clock, iso
from transcribe.errors import InvalidParametersError
from transcribe.store.db import Database
from transcribe.store.files import parse_uuid
from transcribe.store.models import Application
from transcribe.urls import is_http_url
from transcribe.views import ApplicationView


@dataclass
class Applications:
    db: Database
    clock: Clock

    def create(
        self, name: str, public_key: str, event_url: str | None, event_method: str
    ) -> ApplicationView:
        load_public_key(public_key)  # refuses what is not an RSA key of 2048 bits or more
        if event_url is not None and not is_http_url(event_url):
            # The API's schema refuses it first; `transcribe app create` comes straight here.
            raise InvalidParametersError([("event_url", "must be an http:// or https:// URL")])
        with self.db.session() as session:
            application = Application(
                name=name,
                public_key=public_key,
                signature_secret=new_signature_secret(),
                event_url=event_url,
                event_method=event_method.upper(),
                created_at=self.clock.now(),
            )
            session.add(application)
            session.flush()
            return ApplicationView(
                id=application.id,
                name=application.name,
                signature_secret=application.signature_secret,
                event_url=application.event_url,
                event_method=application.event_method,
                created_at=iso(application.created_at),
            )

    def public_key_for(self, application_id: str) -> str | None:
        if parse_uuid(application_id) is None:
            return None
        with self.db.session() as session:
            application = session.get(Application, application_id)
            return application.public_key if application else None

    def signature_secret_for(self, application_id: str) -> str | None:
        """The secret that signs this application's webhooks (and keys its file links)."""
        if parse_uuid(application_id) is None:
            return None
        with self.db.session() as session:
            application = session.get(Application, application_id)
            return application.signature_secret if application else None
