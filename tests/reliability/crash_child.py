"""A device that logs visits in a loop until it is killed (issue #7's crash test).

Usage: python -m tests.reliability.crash_child DB_OR_ADDRESS STORE_ID ASSOCIATE_ID PREFIX

Prints ``started <id>`` once create_visit returned and ``closed <id> <units>``
once record_purchase returned: each line is a confirmation shown on screen,
so whatever it names must survive a SIGKILL at any instant. The loop is
bounded in count and time so a forgotten child stops by itself.
"""

from __future__ import annotations

import sys
import time

from cxlog.storage.db import open_storage
from cxlog.visits import visits

MAX_VISITS = 5_000
MAX_SECONDS = 30


def main(db: str, store_id: int, associate_id: int, prefix: str) -> None:
    storage = open_storage(db)  # a file or a postgresql:// address
    storage.migrate()  # as the server does on every start: a kill may land here too
    storage.keep_open()
    deadline = time.monotonic() + MAX_SECONDS
    for n in range(MAX_VISITS):
        if time.monotonic() > deadline:
            break
        vid = f"{prefix}{n:06d}"
        visits.create_visit(storage, vid, store_id, associate_id, "warm")
        print("started", vid, flush=True)
        units = 1 + n % 5
        visits.record_purchase(storage, vid, units, actor=f"associate:{associate_id}")
        print("closed", vid, units, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
