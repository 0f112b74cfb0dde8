"""The schema, as small registered migrations applied in order and recorded in
``_sqlite_migrations`` (re-applying is a no-op). Never edit a released
migration: add a new one.

Each migration carries its own SQL, frozen as it was released (issue #26):
upgrading an old file never runs today's domain code, so this module imports
nothing of cxlog but the model's constants. Where a migration once filled a
derived table or column from the visits (rollups, coverage sums, local
times), it now marks that table stale (``mark_stale``) when there is
something to fill, and the storage layer has today's code rebuild it once
every migration has run (``cxlog.storage.db.Storage.migrate``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cxlog.core.model import (
    DEFAULT_NO_SALE_REASONS,
    DEFAULT_REASONS,
    NO_SALE_REASON,
    NOT_LEARNED,
    REASON,
    to_utc_text,
    utc_now,
)
from cxlog.storage.engine import Database

Migration = Callable[[Database], None]


@dataclass
class Migrations:
    """The registered migrations, applied in order, each in one transaction
    with the row that records it. The record is the table sqlite-utils'
    ``Migrations`` kept (cxlog ran on it until #27), so every file it
    migrated upgrades as it is."""

    name: str
    registered: list[tuple[str, Migration]] = field(default_factory=list)
    TABLE = "_sqlite_migrations"

    def __call__(self) -> Callable[[Migration], Migration]:
        def register(fn: Migration) -> Migration:
            if any(name == fn.__name__ for name, _ in self.registered):
                raise ValueError(f"migration {fn.__name__} is registered twice")
            self.registered.append((fn.__name__, fn))
            return fn

        return register

    def applied(self, db: Database) -> set[str]:
        if not db.has_table(self.TABLE):
            return set()
        rows = db.execute(f"SELECT name FROM {self.TABLE} WHERE migration_set = ?", [self.name])
        return {name for (name,) in rows}

    def pending(self, db: Database) -> list[str]:
        done = self.applied(db)
        return [name for name, _ in self.registered if name not in done]

    def apply(self, db: Database) -> None:
        """Apply what is pending. The caller holds the only connection that
        migrates (a lock in this process; the file's write lock, taken by
        each migration's BEGIN IMMEDIATE, across processes)."""
        # Word for word as sqlite-utils wrote them: a new file's schema equals
        # an upgraded one's (tests/test_migrations.py compares them).
        db.execute(
            f'CREATE TABLE IF NOT EXISTS "{self.TABLE}" (\n   "id" INTEGER PRIMARY KEY,\n'
            '   "migration_set" TEXT,\n   "name" TEXT,\n   "applied_at" TEXT\n)'
        )
        db.execute(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "idx_{self.TABLE}_migration_set_name"\n'
            f'    ON "{self.TABLE}" ("migration_set", "name")'
        )
        for name, fn in self.registered:
            db.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have applied it while this one waited.
                if name not in self.applied(db):
                    fn(db)
                    db.execute(
                        f"INSERT INTO {self.TABLE} (migration_set, name, applied_at)"
                        " VALUES (?, ?, ?)",
                        [self.name, name, str(utc_now())],
                    )
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


migrations = Migrations("cxlog")

# What a rebuild after migrating fills (``cxlog.numbers.derived.STALE_REBUILDS``).
ROLLUPS, COVERAGE, LOCAL_TIMES = "rollups", "coverage", "local_times"
STALE_TABLE = "_cxlog_stale"

# i14_coaching's seed, as released.
I14_BEHAVIOURS: tuple[tuple[str, str], ...] = (
    ("Greet within 30 seconds", "warm"),
    ("Learn the reason", "learned"),
    ("Use the customer's name", "used_name"),
    ("Recommend one more item", "recommended"),
)


def mark_stale(db: Database, name: str) -> None:
    """Ask for ``name`` to be rebuilt once the migrations have run, if the
    file holds any visit (a new file has nothing to rebuild)."""
    if db.execute("SELECT 1 FROM visits LIMIT 1").fetchone() is None:
        return
    db.execute(f"CREATE TABLE IF NOT EXISTS {STALE_TABLE} (name TEXT PRIMARY KEY)")
    db.execute(f"INSERT OR IGNORE INTO {STALE_TABLE} (name) VALUES (?)", [name])


def stale(db: Database) -> list[str]:
    """The derived tables a migration asked to rebuild, in the order asked."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [STALE_TABLE]).fetchone():
        return []
    return [r[0] for r in db.execute(f"SELECT name FROM {STALE_TABLE} ORDER BY rowid")]


def rebuilt(db: Database, name: str) -> None:
    db.execute(f"DELETE FROM {STALE_TABLE} WHERE name = ?", [name])


@migrations()
def m001_core_tables(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE stores (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            timezone TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE associates (
            id INTEGER PRIMARY KEY,
            store_id INTEGER NOT NULL REFERENCES stores(id),
            name TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            pin_hash TEXT,
            created_at TEXT NOT NULL
        );
        -- Reasons for visit and no-sale reasons share one table; `learned` is 0
        -- only for "Not learned", which scores no connection-depth point.
        CREATE TABLE reasons (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('reason', 'no_sale_reason')),
            name TEXT NOT NULL,
            position INTEGER NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            learned INTEGER NOT NULL DEFAULT 1 CHECK (learned IN (0, 1))
        );
        CREATE TABLE visits (
            id TEXT PRIMARY KEY,
            store_id INTEGER NOT NULL REFERENCES stores(id),
            associate_id INTEGER NOT NULL REFERENCES associates(id),
            started_at TEXT NOT NULL,
            first_engagement TEXT NOT NULL
                CHECK (first_engagement IN ('warm', 'neutral', 'missed')),
            reason_id INTEGER REFERENCES reasons(id),
            used_name INTEGER NOT NULL DEFAULT 0 CHECK (used_name IN (0, 1)),
            recommended INTEGER NOT NULL DEFAULT 0 CHECK (recommended IN (0, 1)),
            outcome TEXT CHECK (outcome IN ('purchased', 'no_purchase')),
            units INTEGER CHECK (units BETWEEN 1 AND 99),
            amount_cents INTEGER CHECK (amount_cents >= 0),
            no_sale_reason_id INTEGER REFERENCES reasons(id),
            closed_at TEXT,
            closed_by INTEGER REFERENCES associates(id),
            voided_at TEXT,
            void_reason TEXT,
            updated_at TEXT NOT NULL,
            -- The database itself refuses an inconsistent outcome, whatever
            -- code path wrote it.
            CHECK ((outcome IS NULL) = (closed_at IS NULL)),
            CHECK (outcome = 'purchased' OR (units IS NULL AND amount_cents IS NULL)),
            CHECK (outcome != 'purchased' OR units IS NOT NULL),
            CHECK (outcome = 'no_purchase' OR no_sale_reason_id IS NULL)
        );
        CREATE INDEX visits_store_started ON visits (store_id, started_at);
        CREATE INDEX visits_started ON visits (started_at);
        CREATE INDEX visits_open ON visits (store_id) WHERE outcome IS NULL AND voided_at IS NULL;
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            before TEXT,
            after TEXT,
            -- Set on a row whose change was taken back by Undo.
            undone INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX audit_entity ON audit (entity, entity_id);
        CREATE INDEX audit_actor_at ON audit (actor, at);
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """
    )


@migrations()
def m002_default_lists(db: Database) -> None:
    rows = [
        (REASON, name, position, int(name != NOT_LEARNED))
        for position, name in enumerate(DEFAULT_REASONS)
    ] + [
        (NO_SALE_REASON, name, position, 1) for position, name in enumerate(DEFAULT_NO_SALE_REASONS)
    ]
    db.executemany("INSERT INTO reasons (kind, name, position, learned) VALUES (?, ?, ?, ?)", rows)
    db.execute(
        "INSERT INTO audit (at, actor, action, entity, entity_id) VALUES (?, ?, ?, ?, ?)",
        [to_utc_text(utc_now()), "system", "create_default_lists", "reasons", "*"],
    )


@migrations()
def m003_shifts(db: Database) -> None:
    # A device's "who am I" for one shift. The token travels in the Log page's
    # URL so it survives a refresh (session state does not, docs/stack-facts.md); only
    # its SHA-256 is stored, so a copy of the database opens no shift.
    db.executescript(
        """
        CREATE TABLE shifts (
            token_hash TEXT PRIMARY KEY,
            associate_id INTEGER NOT NULL REFERENCES associates(id),
            started_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT
        );
        """
    )


@migrations()
def m004_sign_in_failures(db: Database) -> None:
    # Failed password tries per role, for the 5-tries / 5-minutes lockout.
    db.executescript(
        """
        CREATE TABLE sign_in_failures (
            role TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            locked_until TEXT
        );
        """
    )


@migrations()
def m005_dashboard_index(db: Database) -> None:
    # Issue #5: the dashboard reads, per store and period, only these columns.
    # Covered by one index they come from a sequential index range instead of
    # a random table lookup per visit: a year of 1M demo visits in ~0.55 s
    # instead of ~1.8 s, a month of one store in ~5 ms. Costs ~60 bytes a visit.
    db.execute(
        """
        CREATE INDEX visits_dashboard ON visits (
            store_id, started_at, voided_at, first_engagement, associate_id, reason_id,
            recommended, outcome, units, amount_cents, no_sale_reason_id
        )
        """
    )


@migrations()
def i14_coaching(db: Database) -> None:
    # Issue #14: per-store goals and currency, the editable list of behaviours a
    # manager picks the daily focus from, and the focus of each store-local day.
    # IF NOT EXISTS: safe whichever other issues' migrations ran before it.
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS store_coaching (
            store_id INTEGER PRIMARY KEY REFERENCES stores(id),
            currency TEXT,
            warm_rate_goal REAL CHECK (warm_rate_goal BETWEEN 0 AND 1),
            conversion_goal REAL CHECK (conversion_goal BETWEEN 0 AND 1),
            ups_goal REAL CHECK (ups_goal BETWEEN 1 AND 99)
        );
        CREATE TABLE IF NOT EXISTS behaviours (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            position INTEGER NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            measure TEXT
        );
        CREATE TABLE IF NOT EXISTS daily_focus (
            store_id INTEGER NOT NULL REFERENCES stores(id),
            day TEXT NOT NULL,
            behaviour_id INTEGER NOT NULL REFERENCES behaviours(id),
            set_at TEXT NOT NULL,
            PRIMARY KEY (store_id, day)
        );
        """
    )
    if not db.execute("SELECT count(*) FROM behaviours").fetchone()[0]:
        db.executemany(
            "INSERT INTO behaviours (name, position, measure) VALUES (?, ?, ?)",
            [(name, i, measure) for i, (name, measure) in enumerate(I14_BEHAVIOURS)],
        )


@migrations()
def i10_taps_and_device_shifts(db: Database) -> None:
    # Issue #10/#11: taps arrive over HTTP from each device's outbox, and the
    # associate's shift lives in an HttpOnly cookie instead of the URL.
    # Store-scoped tables lead their keys with store_id (issue #12).
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS device_shifts (
            store_id INTEGER NOT NULL REFERENCES stores(id),
            token_hash TEXT NOT NULL,
            associate_id INTEGER NOT NULL REFERENCES associates(id),
            device_id TEXT NOT NULL,
            -- A digest of the associate's PIN hash when the shift began: a
            -- changed PIN no longer matches, which ends the shift everywhere.
            pin_stamp TEXT NOT NULL,
            started_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT,
            ended_why TEXT,
            PRIMARY KEY (store_id, token_hash)
        );
        CREATE INDEX IF NOT EXISTS device_shifts_associate
            ON device_shifts (store_id, associate_id) WHERE ended_at IS NULL;
        -- Every tap a device sent, applied or answered: a tap id seen before
        -- is answered from here and changes nothing.
        CREATE TABLE IF NOT EXISTS taps (
            store_id INTEGER NOT NULL REFERENCES stores(id),
            id TEXT NOT NULL,
            visit_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            associate_id INTEGER NOT NULL,
            device_id TEXT NOT NULL,
            device_at TEXT NOT NULL,
            at TEXT NOT NULL,
            clock_offset_ms INTEGER,
            received_at TEXT NOT NULL,
            ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
            answer TEXT,
            PRIMARY KEY (store_id, id)
        );
        CREATE INDEX IF NOT EXISTS taps_visit ON taps (store_id, visit_id);
        -- The start rate limit per device: a token bucket kept in the database,
        -- so it holds across server processes and restarts.
        CREATE TABLE IF NOT EXISTS device_start_limits (
            store_id INTEGER NOT NULL REFERENCES stores(id),
            device_id TEXT NOT NULL,
            tokens REAL NOT NULL,
            refreshed_at TEXT NOT NULL,
            PRIMARY KEY (store_id, device_id)
        );
        """
    )
    columns = set(db.columns("audit"))
    for column in ("device_at", "received_at"):
        if column not in columns:
            db.execute(f"ALTER TABLE audit ADD COLUMN {column} TEXT")


@migrations()
def i11_sessions_and_throttle(db: Database) -> None:
    # Issue #11: manager/owner sessions that outlive a page load (only the
    # token's hash is stored), and the sign-in throttle whose counters are
    # checked and bumped in one BEGIN IMMEDIATE before any hashing. The key
    # is "role:<who>" (every device but the server itself) or
    # "client:<address>:<who>" (one device).
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS role_sessions (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            device TEXT NOT NULL,
            client TEXT NOT NULL,
            credential_version INTEGER NOT NULL,
            claim_hash TEXT UNIQUE,
            claim_expires_at TEXT,
            ended_at TEXT
        );
        CREATE TABLE IF NOT EXISTS sign_in_throttle (
            key TEXT PRIMARY KEY,
            attempts INTEGER NOT NULL,
            locked_until TEXT,
            window_ends TEXT,
            locks INTEGER NOT NULL DEFAULT 0
        );
        """
    )


I12_ROLLUPS = """
CREATE TABLE IF NOT EXISTS rollups (
    store_id INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    grain INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    k1 INTEGER NOT NULL,
    k2 INTEGER NOT NULL,
    visits INTEGER NOT NULL,
    warm INTEGER NOT NULL,
    closed INTEGER NOT NULL,
    purchased INTEGER NOT NULL,
    units INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    with_amount INTEGER NOT NULL,
    PRIMARY KEY (store_id, grain, bucket, kind, k1, k2)
) WITHOUT ROWID
"""


@migrations()
def i12_rollups(db: Database) -> None:
    # Issue #12: the dashboard and the summary read pre-aggregated counts
    # (cxlog.numbers.rollups), built here once from the visits already stored, then
    # kept exact by every write. store_id leads the keys of every
    # store-scoped table so the data can later be spread by store: audit and
    # shifts gain the column, filled where it can be derived. One statement
    # at a time (no executescript, which would commit the migration's
    # transaction half-way and leave the rebuild to autocommit row by row).
    db.execute(I12_ROLLUPS)
    if "store_id" not in set(db.columns("audit")):
        db.execute("ALTER TABLE audit ADD COLUMN store_id INTEGER")
    for sql in (
        "UPDATE audit SET store_id = (SELECT v.store_id FROM visits v WHERE v.id = audit.entity_id)"
        " WHERE entity = 'visit' AND store_id IS NULL",
        "UPDATE audit SET store_id = CAST(entity_id AS INTEGER)"
        " WHERE entity = 'store' AND store_id IS NULL AND entity_id GLOB '[0-9]*'",
        "UPDATE audit SET store_id = (SELECT a.store_id FROM associates a"
        " WHERE a.id = CAST(audit.entity_id AS INTEGER))"
        " WHERE entity = 'associate' AND store_id IS NULL AND entity_id GLOB '[0-9]*'",
        "CREATE INDEX IF NOT EXISTS audit_store_at ON audit (store_id, at)",
    ):
        db.execute(sql)
    if "store_id" not in set(db.columns("shifts")):
        db.execute("ALTER TABLE shifts ADD COLUMN store_id INTEGER REFERENCES stores(id)")
    # Filled from the associate whatever code starts a shift (issue #10
    # rebuilds shift storage; this keeps today's table keyed meanwhile).
    for sql in (
        "UPDATE shifts SET store_id = (SELECT a.store_id FROM associates a"
        " WHERE a.id = shifts.associate_id) WHERE store_id IS NULL",
        """CREATE TRIGGER IF NOT EXISTS shifts_store_id AFTER INSERT ON shifts
            WHEN NEW.store_id IS NULL
        BEGIN
            UPDATE shifts SET store_id = (
                SELECT a.store_id FROM associates a WHERE a.id = NEW.associate_id)
                WHERE token_hash = NEW.token_hash;
        END""",
        "CREATE INDEX IF NOT EXISTS shifts_store_associate ON shifts (store_id, associate_id)",
    ):
        db.execute(sql)
    mark_stale(db, ROLLUPS)


@migrations()
def i13_traffic_pos(db: Database) -> None:
    # Issue #13: door-counter hours, POS totals and each store's counter
    # settings. store_id leads every key (issue #12's rule for store-scoped
    # tables). A traffic hour is the UTC instant its store-local clock hour
    # starts, so half-hour zones and DST changes need no special case; POS
    # totals are keyed by the store-local day and hour as POS reports print
    # them (hour -1 = a whole-day total). Re-importing replaces by these keys.
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS traffic_hours (
            store_id INTEGER NOT NULL REFERENCES stores(id),
            hour_start TEXT NOT NULL,
            hour_end TEXT NOT NULL,
            entries INTEGER NOT NULL CHECK (entries >= 0),
            exits INTEGER CHECK (exits >= 0),
            imported_at TEXT NOT NULL,
            PRIMARY KEY (store_id, hour_start)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS pos_totals (
            store_id INTEGER NOT NULL REFERENCES stores(id),
            day TEXT NOT NULL,
            hour INTEGER NOT NULL CHECK (hour BETWEEN -1 AND 23),
            transactions INTEGER NOT NULL CHECK (transactions >= 0),
            units INTEGER CHECK (units >= 0),
            net_sales_cents INTEGER,
            imported_at TEXT NOT NULL,
            PRIMARY KEY (store_id, day, hour)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS traffic_settings (
            store_id INTEGER PRIMARY KEY REFERENCES stores(id),
            two_way INTEGER NOT NULL DEFAULT 0 CHECK (two_way IN (0, 1)),
            staff_per_hour REAL NOT NULL DEFAULT 0 CHECK (staff_per_hour >= 0),
            coverage_threshold REAL NOT NULL DEFAULT 0.7
                CHECK (coverage_threshold > 0 AND coverage_threshold <= 1)
        );
        """
    )


# Issue #15: a CHECK for each text column of the follow-up tables.
_D2, _D4 = "[0-9]" * 2, "[0-9]" * 4
_DAY = f"'{_D4}-{_D2}-{_D2}'"
_STAMP = f"'{_D4}-{_D2}-{_D2}T{_D2}:{_D2}:{_D2}.{_D2}[0-9]Z'"


@migrations()
def i15_followups(db: Database) -> None:
    # Issue #15: the after-visit phase, tied to a visit code, never to a
    # person. Every text column is held to an enum, a date, a time or a code
    # by a CHECK, so no name, phone number, e-mail address or note can be
    # stored (tests/test_followups_privacy.py tries). store_id leads every key.
    # IF NOT EXISTS: safe whatever other issues' migrations ran before.
    script = """
        CREATE TABLE IF NOT EXISTS visit_codes (
            store_id INTEGER NOT NULL REFERENCES stores(id),
            code TEXT NOT NULL
                CHECK (length(code) = 5 AND code NOT GLOB '*[^ACDEFGHJKMNPQRTUVWXY34679]*'),
            visit_id TEXT NOT NULL REFERENCES visits(id),
            assigned_at TEXT NOT NULL CHECK (assigned_at GLOB STAMP),
            PRIMARY KEY (store_id, code, assigned_at),
            UNIQUE (store_id, visit_id)
        );
        CREATE TABLE IF NOT EXISTS followups (
            id INTEGER PRIMARY KEY,
            store_id INTEGER NOT NULL REFERENCES stores(id),
            visit_id TEXT NOT NULL REFERENCES visits(id),
            channel TEXT NOT NULL CHECK (channel IN ('call', 'text', 'email', 'in_store')),
            promised_at TEXT NOT NULL CHECK (promised_at GLOB STAMP),
            promised_on TEXT NOT NULL CHECK (promised_on GLOB DAY),
            promised_by INTEGER NOT NULL REFERENCES associates(id),
            -- The day first promised (for "done on time") and the day it is
            -- due now (moved by a snooze or a no-answer retry); store-local.
            promised_due_on TEXT NOT NULL CHECK (promised_due_on GLOB DAY),
            due_on TEXT NOT NULL CHECK (due_on GLOB DAY),
            first_action_on TEXT CHECK (first_action_on GLOB DAY),
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            snoozes INTEGER NOT NULL DEFAULT 0 CHECK (snoozes >= 0),
            result TEXT CHECK (result IN ('reached', 'bought', 'came_back', 'not_needed')),
            result_at TEXT CHECK (result_at GLOB STAMP),
            result_on TEXT CHECK (result_on GLOB DAY),
            result_by INTEGER REFERENCES associates(id),
            units INTEGER CHECK (units BETWEEN 1 AND 99),
            amount_cents INTEGER CHECK (amount_cents >= 0),
            return_visit_id TEXT REFERENCES visits(id),
            updated_at TEXT NOT NULL CHECK (updated_at GLOB STAMP),
            UNIQUE (store_id, visit_id),
            CHECK ((result IS NULL) = (result_at IS NULL)),
            CHECK ((result IS NULL) = (result_on IS NULL)),
            CHECK (result = 'bought' OR (units IS NULL AND amount_cents IS NULL)),
            CHECK (result != 'bought' OR units IS NOT NULL)
        );
        -- The associates' list: open follow-ups by due day, done ones by day.
        CREATE INDEX IF NOT EXISTS followups_open ON followups (store_id, due_on)
            WHERE result IS NULL;
        CREATE INDEX IF NOT EXISTS followups_done ON followups (store_id, result_on)
            WHERE result IS NOT NULL;
        CREATE INDEX IF NOT EXISTS followups_due ON followups (store_id, promised_due_on);
        -- A visit marked as a customer's return, linked to their earlier visit.
        CREATE TABLE IF NOT EXISTS visit_returns (
            store_id INTEGER NOT NULL REFERENCES stores(id),
            visit_id TEXT NOT NULL REFERENCES visits(id),
            original_visit_id TEXT NOT NULL REFERENCES visits(id),
            linked_at TEXT NOT NULL CHECK (linked_at GLOB STAMP),
            linked_by INTEGER REFERENCES associates(id),
            PRIMARY KEY (store_id, visit_id),
            CHECK (visit_id != original_visit_id)
        );
        CREATE INDEX IF NOT EXISTS visit_returns_original
            ON visit_returns (store_id, original_visit_id);
    """
    db.executescript(script.replace("STAMP", _STAMP).replace("DAY", _DAY))


@migrations()
def i15_followups_visit_index(db: Database) -> None:
    # Issue #15, found with #12's benchmark: the dashboard's follow-up numbers
    # look up each follow-up's visit by id, for its engagement, depth, reason
    # and whether it was voided. Through the id's own index plus a table
    # lookup that took ~490 ms for a year of 10 stores' 55,874 follow-ups,
    # half the year page; covered by this index, 341 ms. ~40 bytes a visit.
    db.execute(
        "CREATE INDEX IF NOT EXISTS visits_followup ON visits"
        " (id, voided_at, first_engagement, reason_id, recommended)"
    )


# The visit columns a follow-up's numbers are grouped and filtered by, copied
# onto the follow-up (issue #12). Triggers keep the copies equal to the visit
# in the same statement as any write that changes them, whatever code path
# made it (a correction, a void, a reopen, the tap API, the demo's bulk load).
_FOLLOWUP_VISIT_COPIES = """
    (visit_engagement, visit_reason_id, visit_recommended, visit_voided)
"""


@migrations()
def i12_followups_carry_their_visit(db: Database) -> None:
    # Issue #12, measured on the 1M-visit benchmark: the dashboard's follow-up
    # numbers looked up each follow-up's visit by its 32-character id, one
    # random probe of a 1M-entry index per follow-up: ~460 ms of the year
    # page for 55,874 follow-ups. With the four columns they need on the
    # follow-up itself and one covering index, the numbers read one index
    # range per store and no visit at all.
    for column in (
        "visit_engagement TEXT CHECK (visit_engagement IN ('warm', 'neutral', 'missed'))",
        "visit_reason_id INTEGER",
        "visit_recommended INTEGER NOT NULL DEFAULT 0 CHECK (visit_recommended IN (0, 1))",
        "visit_voided INTEGER NOT NULL DEFAULT 0 CHECK (visit_voided IN (0, 1))",
    ):
        db.execute(f"ALTER TABLE followups ADD COLUMN {column}")
    copies = _FOLLOWUP_VISIT_COPIES
    db.executescript(
        f"""
        UPDATE followups SET {copies} = (
            SELECT v.first_engagement, v.reason_id, v.recommended, v.voided_at IS NOT NULL
            FROM visits v WHERE v.id = followups.visit_id);
        CREATE TRIGGER followups_copy_visit AFTER INSERT ON followups
        BEGIN
            UPDATE followups SET {copies} = (
                SELECT v.first_engagement, v.reason_id, v.recommended, v.voided_at IS NOT NULL
                FROM visits v WHERE v.id = NEW.visit_id)
            WHERE id = NEW.id;
        END;
        CREATE TRIGGER visits_copy_to_followups
        AFTER UPDATE OF first_engagement, reason_id, recommended, voided_at ON visits
        BEGIN
            UPDATE followups SET {copies} = (
                NEW.first_engagement, NEW.reason_id, NEW.recommended, NEW.voided_at IS NOT NULL)
            WHERE store_id = NEW.store_id AND visit_id = NEW.id;
        END;
        -- Every column the numbers read, led by the store, then in the order
        -- they are grouped by: one index range per store, no table lookup
        -- and no sort (grouping 55k follow-ups through a sort cost ~100 ms).
        CREATE INDEX followups_numbers ON followups (
            store_id, visit_voided, visit_engagement, visit_recommended, visit_reason_id,
            result_by, promised_due_on, promised_on, result_on, result, due_on,
            first_action_on, promised_by);
        -- The index the numbers used, and the visits' index their join used:
        -- nothing reads them any more, and each cost every write.
        DROP INDEX IF EXISTS followups_due;
        DROP INDEX IF EXISTS visits_followup;
        """
    )


# csvlines.unsafe_id() as released: the export's query must say it word for
# word to use the index (tests/test_localtimes.py).
I12_UNSAFE_ID = (
    "unicode(id) IN (61, 43, 45, 64, 9, 13, 10) OR instr(id, ',')"
    " OR instr(id, '\"') OR instr(id, char(10)) OR instr(id, char(13))"
)


@migrations()
def i12_visits_keep_local_times(db: Database) -> None:
    # Issue #12: the visits CSV worked out each visit's local start and close
    # (~1 s of CPU per million visits) and checked each id for characters to
    # escape (~0.3 s): the export ran at 1.9x `sqlite3 -csv`. The local texts
    # are now written with the visit (cxlog/calendar/localtimes.py) and an index of
    # the ids that need escaping (normally empty) answers the check at once.
    # A local time with its offset and nothing else fits (no free text).
    local = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9][+-]*'"
    for column in ("started_local", "closed_local"):
        db.execute(
            f"ALTER TABLE visits ADD COLUMN {column} TEXT"
            f" CHECK ({column} IS NULL OR ({column} GLOB {local} AND length({column}) <= 28))"
        )
    db.executescript(
        f"""
        -- A UTC time changed without its local text (a hand edit, a repair):
        -- the stale text goes, and the export works the time out again.
        CREATE TRIGGER visits_started_local_stale AFTER UPDATE OF started_at ON visits
        WHEN NEW.started_at IS NOT OLD.started_at AND NEW.started_local IS OLD.started_local
        BEGIN
            UPDATE visits SET started_local = NULL WHERE rowid = NEW.rowid;
        END;
        CREATE TRIGGER visits_closed_local_stale AFTER UPDATE OF closed_at ON visits
        WHEN NEW.closed_at IS NOT OLD.closed_at AND NEW.closed_local IS OLD.closed_local
        BEGIN
            UPDATE visits SET closed_local = NULL WHERE rowid = NEW.rowid;
        END;
        CREATE INDEX visits_unsafe_id ON visits (id) WHERE {I12_UNSAFE_ID};
        """
    )
    mark_stale(db, LOCAL_TIMES)


I13_COVERAGE_SUMS = (
    "ALTER TABLE traffic_hours ADD COLUMN visitors REAL NOT NULL DEFAULT 0",
    "ALTER TABLE traffic_hours ADD COLUMN day INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE traffic_hours ADD COLUMN hour INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE traffic_hours ADD COLUMN logged INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE traffic_hours ADD COLUMN closed INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE traffic_hours ADD COLUMN purchased INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE traffic_hours ADD COLUMN units INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE traffic_hours ADD COLUMN pos_transactions INTEGER",
    "ALTER TABLE pos_totals ADD COLUMN lone INTEGER NOT NULL DEFAULT 0",
    # coverage_sums.FLAGGED, word for word: SQLite uses a partial index only for a
    # query whose WHERE contains the index's.
    "CREATE INDEX IF NOT EXISTS traffic_hours_flagged ON traffic_hours (store_id, hour_start)"
    " WHERE logged > visitors OR (visitors = 0 AND pos_transactions > 0)",
    "CREATE INDEX IF NOT EXISTS pos_totals_lone ON pos_totals (store_id, day) WHERE lone = 1",
    """CREATE TABLE IF NOT EXISTS coverage_days (
        store_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        hours INTEGER NOT NULL DEFAULT 0,
        visitors REAL NOT NULL DEFAULT 0,
        logged INTEGER NOT NULL DEFAULT 0,
        closed INTEGER NOT NULL DEFAULT 0,
        purchased INTEGER NOT NULL DEFAULT 0,
        units INTEGER NOT NULL DEFAULT 0,
        silent_logged INTEGER NOT NULL DEFAULT 0,
        uncounted INTEGER NOT NULL DEFAULT 0,
        pos_transactions INTEGER,
        pos_units INTEGER,
        pos_net_cents INTEGER,
        heat BLOB NOT NULL,
        PRIMARY KEY (store_id, day)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS coverage_months (
        store_id INTEGER NOT NULL,
        month INTEGER NOT NULL,
        heat BLOB NOT NULL,
        PRIMARY KEY (store_id, month)
    ) WITHOUT ROWID""",
)


@migrations()
def i13_coverage_sums(db: Database) -> None:
    # Issue #13: the dashboard's coverage summed from the counter hours and
    # visits on every page cost ~250 ms for a year of 10 stores. The sums are
    # now kept exact on every write (cxlog/numbers/coverage_sums.py), like the
    # rollups, and computed here once for what is already stored.
    for sql in I13_COVERAGE_SUMS:
        db.execute(sql)
    mark_stale(db, COVERAGE)


@migrations()
def i24_taps_starts_index(db: Database) -> None:
    # Issue #24: a start is refused when the same device started a visit
    # within the double-tap window (cxlog/visits/taps.py); this finds that start
    # without reading the device's other taps.
    db.execute(
        "CREATE INDEX IF NOT EXISTS taps_starts ON taps (store_id, device_id, device_at)"
        " WHERE kind = 'start' AND ok = 1"
    )


@migrations()
def i25_rate_limits(db: Database) -> None:
    # Issue #25: rate limits keyed by what the server knows (the associate,
    # the address, the store), not by the device id the client sends; the
    # old per-device table is left unused (cxlog/access/limits.py).
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS rate_limits (
            store_id INTEGER NOT NULL REFERENCES stores(id),
            key TEXT NOT NULL,
            tokens REAL NOT NULL,
            refreshed_at TEXT NOT NULL,
            PRIMARY KEY (store_id, key)
        )
        """
    )


@migrations()
def i25_downloads(db: Database) -> None:
    # Issue #25: exports and backups are fetched once, by the owner's session
    # that asked, within a minute (cxlog/export/downloads.py); what was asked for is
    # kept here, never the file.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS downloads (
            id_hash TEXT PRIMARY KEY,
            session_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            file_name TEXT NOT NULL,
            choices TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        )
        """
    )


@migrations()
def i25_known_devices(db: Database) -> None:
    # Issue #25: devices on which a role, or an associate of a store, signed
    # in before keep a way in while strangers' failures lock unknown devices
    # (cxlog/access/lockout.py). Only a hash of the device cookie is kept.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS known_devices (
            scope TEXT NOT NULL,
            device_hash TEXT NOT NULL,
            last_ok_at TEXT NOT NULL,
            PRIMARY KEY (scope, device_hash)
        )
        """
    )
