"""What a webhook attempt may reach and how long a receiver may hold it, as the delivery log
records it: the real outbox on a real SQLite file, sending over real sockets on loopback.

No model is loaded: these run in `make test-fast`. (That a slow receiver holds neither
transcription nor other applications' webhooks in the running service: test_service_egress.)
"""

from __future__ import annotations

import datetime as dt
import logging
import resource
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from transcribe.clock import SystemClock
from transcribe.config import WebhookSettings
from transcribe.metrics import Metrics
from transcribe.store.db import Database, migrate
from transcribe.store.models import Application, Delivery
from transcribe.views import DeliveryView
from transcribe.webhooks import Outbox, claim_due

from live import BadReceiver, Receiver

MB = 1024 * 1024


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'transcribe.db'}")
    migrate(database.engine)
    yield database
    database.dispose()


def outbox(db: Database, **settings: Any) -> Outbox:
    """The service's outbox with these webhook settings (the defaults otherwise: every
    default blocked network)."""
    return Outbox(db, SystemClock(), WebhookSettings(**settings), Metrics(), lambda _: None)


def stored(db: Database, url: str, method: str = "POST") -> tuple[str, str]:
    """An application and one `record` event of it to `url`, due now: (app id, delivery id)."""
    with db.session() as session:
        app = Application(name="t", public_key="-", signature_secret="s" * 32)
        session.add(app)
        session.flush()
        delivery = Delivery(
            application_id=app.id, event="record", url=url, method=method, payload={"a": 1}
        )
        session.add(delivery)
        session.flush()
        return app.id, delivery.id


def delivered_once(db: Database, url: str, **settings: Any) -> DeliveryView:
    """One attempt of a new event to `url`, as the delivery log shows it afterwards."""
    box = outbox(db, **settings)
    app_id, delivery_id = stored(db, url)
    box.deliver(delivery_id)
    return box.view(app_id, delivery_id)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",  # a name that resolves to loopback
        "[::1]",
        "[::ffff:127.0.0.1]",  # IPv6 written around an IPv4 loopback address
        "2130706433",  # 127.0.0.1 as one number
        "0.0.0.0",
    ],
)
def test_loopback_in_any_spelling_is_blocked_and_never_contacted(
    db: Database, receiver: Receiver, host: str
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    view = delivered_once(db, f"http://{host}:{port}/events", timeout_s=2)
    assert view.status == "blocked" and view.next_attempt_at is None
    (attempt,) = view.attempts
    assert attempt.status_code is None and attempt.error
    assert "not contacted" in attempt.error and "blocked network" in attempt.error
    assert receiver.requests == []
    # Final: no sweep, now or a day later, picks it up again.
    assert claim_due(db, SystemClock().now() + dt.timedelta(days=1)) == []


def test_cloud_metadata_is_blocked(db: Database) -> None:
    view = delivered_once(db, "http://169.254.169.254/latest/meta-data/", timeout_s=2)
    assert view.status == "blocked"
    assert view.attempts[0].error == (
        "not contacted: 169.254.169.254 resolves into the blocked network 169.254.0.0/16"
    )


def test_an_operator_network_is_blocked_and_an_empty_list_allows_loopback(
    db: Database, receiver: Receiver
) -> None:
    blocked = delivered_once(db, receiver.url, blocked_networks=["127.0.0.0/30"])
    assert blocked.status == "blocked" and "127.0.0.0/30" in str(blocked.attempts[0].error)
    assert delivered_once(db, receiver.url, blocked_networks=[]).status == "delivered"
    assert len(receiver.requests) == 1


def test_a_redirect_is_the_answer_not_followed(db: Database, receiver: Receiver) -> None:
    receiver.statuses = [307]
    view = delivered_once(db, receiver.url, blocked_networks=[])
    assert view.status == "failed" and view.attempts[0].status_code == 307
    assert view.attempts[0].error == "a redirect: redirects are not followed"


def test_a_huge_answer_is_read_only_in_part(db: Database) -> None:
    bad = BadReceiver("huge", size=50 * MB)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        view = delivered_once(db, bad.url(), blocked_networks=[])
    finally:
        bad.stop()
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(f"answer of 50 MB: the receiver sent {bad.sent / MB:.2f} MB; peak RSS +{growth:.0f} MB")
    assert view.status == "delivered" and view.attempts[0].status_code == 200
    # 64 KiB read; the rest that left the receiver sat in the two kernels' socket buffers.
    assert bad.sent < 16 * MB


def test_a_trickling_receiver_is_cut_off_at_the_deadline(db: Database) -> None:
    bad = BadReceiver("trickle", size=30)  # a byte a second: 30 s to answer in full
    try:
        view = delivered_once(db, bad.url(), blocked_networks=[], timeout_s=1.5)
    finally:
        bad.stop()
    assert view.status == "pending"  # a timeout is retried
    (attempt,) = view.attempts
    assert attempt.status_code is None and attempt.error == "timed out after 1.5 s"
    assert bad.sent < 30


def test_a_busy_host_gets_no_more_than_max_per_host_attempts_at_once(
    db: Database, receiver: Receiver
) -> None:
    box = outbox(db, blocked_networks=[], max_per_host=1, timeout_s=60)
    bad = BadReceiver("trickle", size=30)
    _, first = stored(db, bad.url("localhost"))
    app_id, second = stored(db, bad.url("localhost"))
    other_app, elsewhere = stored(db, receiver.url)  # 127.0.0.1: another host name
    holding = threading.Thread(target=box.deliver, args=(first,))
    holding.start()
    try:
        bad.wait_for(1)  # the first attempt now holds localhost's one slot
        box.deliver(second)
        box.deliver(elsewhere)
        assert bad.requests == 1
        waiting = box.view(app_id, second)
        assert waiting.status == "pending" and waiting.attempts == []  # back to the sweeper
        assert box.view(other_app, elsewhere).status == "delivered"
    finally:
        bad.stop()
        holding.join(30)


def test_credentials_in_an_event_url_never_reach_the_log(
    db: Database, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    url = receiver.url.replace("127.0.0.1", "alice:s3cret@127.0.0.1")
    with caplog.at_level(logging.DEBUG):
        view = delivered_once(db, url, blocked_networks=[])
    assert view.status == "delivered"
    assert "127.0.0.1" in caplog.text and "s3cret" not in caplog.text
    (request,) = receiver.requests
    assert "s3cret" not in str(request.headers)  # Authorization carries our signature


# -- https: the connection goes to the checked address, the certificate to the host name ----


def self_signed_for(name: str, folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def https_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """An https receiver on loopback whose certificate names `localhost` only, trusted the
    way an operator trusts a private CA (SSL_CERT_FILE)."""
    cert, key = self_signed_for("localhost", tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))

    class Ok(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_https_is_verified_against_the_host_name(db: Database, https_port: int) -> None:
    named = delivered_once(db, f"https://localhost:{https_port}/events", blocked_networks=[])
    assert named.status == "delivered"
    # The same server by its address: the certificate does not name 127.0.0.1.
    by_address = delivered_once(db, f"https://127.0.0.1:{https_port}/", blocked_networks=[])
    assert by_address.status == "pending"
    assert "certificate" in str(by_address.attempts[0].error).lower()
