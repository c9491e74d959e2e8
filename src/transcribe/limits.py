"""Every fixed limit of the product, defined once. (Limits an operator may change are in
`config.Settings`.)"""

from __future__ import annotations

# Channels of a recording: NCCO `channels`, uploaded recordings, channel threads.
MAX_CHANNELS = 32
# MP3 holds mono or stereo only.
MP3_MAX_CHANNELS = 2
# Vonage's longest `timeOut` for a record action, in seconds.
MAX_RECORD_SECONDS = 7200
# Legs in one POST /v1/recordings.
MAX_UPLOAD_LEGS = 64
# A leg's `offset_ms` in POST /v1/recordings: within the longest recording.
MAX_LEG_OFFSET_MS = MAX_RECORD_SECONDS * 1000
# A form field holding JSON text (the record action of POST /v1/recordings).
MAX_JSON_FIELD_CHARS = 20_000
# Page sizes of the list endpoints.
MAX_PAGE_SIZE = 100
# A queue job that has killed its worker this many times fails instead of running again.
MAX_JOB_ATTEMPTS = 3
# Files up to this size (transcripts, in practice) are kept in memory once read: they never
# change, and fetching transcription_url is the hottest read path of the API.
SMALL_FILE_BYTES = 256 * 1024
FILE_CACHE_ENTRIES = 512
# A signed link to one file (the console's audio player, which cannot send a header) works
# this long; the console asks for a new one when its player finds the old one refused.
FILE_LINK_TTL_S = 900
# Tokens verified once are remembered until they expire, up to this many.
TOKEN_CACHE_ENTRIES = 10_000
# The `token` query parameter of a leg's WebSocket, and the Authorization header.
MAX_TOKEN_CHARS = 8192
# A live leg's WebSocket frame (binary audio or a text event); Vonage's are 640 bytes.
MAX_LEG_FRAME_BYTES = 64 * 1024
# Retry-After, in seconds, when the disk is below its floor (`min_free_disk_bytes`).
LOW_DISK_RETRY_AFTER_S = 60
# Of a webhook receiver's answer only the status matters: this much of its body is read, then
# the connection is closed.
MAX_WEBHOOK_RESPONSE_BYTES = 64 * 1024
# A webhook whose host already has `max_per_host` attempts in flight waits this long, then is
# picked up again by the sweeper.
HOST_BUSY_WAIT_S = 1.0
# The sweep looks for orphaned files (see `JobSettings.orphan_after_s`) at most this often: it
# lists the files folder, which holds every stored recording.
ORPHAN_SWEEP_INTERVAL_S = 600
# An NCCO: actions in one, and a notify action's payload (it is sent as a webhook body).
MAX_NCCO_ACTIONS = 100
MAX_NOTIFY_PAYLOAD_BYTES = 16 * 1024

# GET /v1/search: the query `q` in characters and in terms (words, "phrases", prefix*), the
# letters a lone prefix needs (`re*` would match most of a call centre's vocabulary), and how
# many words of a long sentence its snippet shows around the first match.
MAX_SEARCH_QUERY_CHARS = 256
MAX_SEARCH_TERMS = 16
MIN_SEARCH_PREFIX_CHARS = 2
SNIPPET_WORDS = 30
