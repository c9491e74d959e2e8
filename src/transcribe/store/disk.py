"""The free-disk floor: below it the service takes no new audio (uploads, live legs), so a
full disk never cuts a recording or a transcript short halfway, nor breaks the database."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from transcribe.errors import UnavailableError
from transcribe.limits import LOW_DISK_RETRY_AFTER_S


@dataclass(frozen=True)
class DiskFloor:
    path: Path  # on the volume of the stored files
    min_free_bytes: int  # 0: no floor

    def check(self) -> None:
        """Refuse new audio while the volume has less than `min_free_bytes` free."""
        if self.min_free_bytes and shutil.disk_usage(self.path).free < self.min_free_bytes:
            raise UnavailableError(
                "the server is low on disk space (below min_free_disk_bytes); try again later",
                retry_after_s=LOW_DISK_RETRY_AFTER_S,
            )
