"""`python -m cxlog …`: commands for scheduled jobs and setup.

Errors a person can fix (bad dates, missing files) print one sentence and exit
with status 2; nothing prints a stack trace at them.

Each command imports what it needs when it runs, not at the top: the
dashboard's numbers and the summary import pandas and numpy (~0.7 s), and
the visits export, run from cron, must stay without them
(tests/test_cli_export.py). No import here dodges a circle.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cxlog.core.errors import CxlogError, ValidationError
from cxlog.coverage import import_formats
from cxlog.export import export
from cxlog.language import words
from cxlog.storage.db import Storage, open_storage
from cxlog.storage.postgres import PostgresStorage


def _positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cxlog", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="write realistic demo data into a new database")
    p.add_argument(
        "--db",
        type=str,
        default=None,
        help="database file or postgresql:// address (default: CXLOG_DB)",
    )
    p.add_argument("--visits", type=_positive, default=20_000)
    p.add_argument("--days", type=_positive, default=90)
    p.add_argument("--stores", type=_positive, default=1)
    p.add_argument("--associates", type=_positive, default=6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--traffic",
        action="store_true",
        help="also door-counter traffic and POS totals that fit the visits (#13)",
    )

    p = commands.add_parser("migrate", help="create or upgrade the database schema")
    p.add_argument("--db", type=str, default=None)

    # Issue #6: exports and backups for scheduled jobs (docs/data-dictionary.md).
    p = commands.add_parser(
        "export",
        help="visits CSV (or --summary) for a range of store-local dates",
        description="Dates are each store's own calendar days (its IANA timezone), both "
        "inclusive. Columns: docs/data-dictionary.md.",
    )
    p.add_argument(
        "--db",
        type=str,
        default=None,
        help="database file or postgresql:// address (default: CXLOG_DB)",
    )
    p.add_argument(
        "--from",
        dest="first_day",
        required=True,
        metavar="DATE",
        help="first store-local day, YYYY-MM-DD (inclusive)",
    )
    p.add_argument(
        "--to",
        dest="last_day",
        required=True,
        metavar="DATE",
        help="last store-local day, YYYY-MM-DD (inclusive)",
    )
    p.add_argument("--store", metavar="S", help="a store id or exact name (default: every store)")
    p.add_argument("--include-voided", action="store_true", help="add voided visits")
    p.add_argument("--summary", action="store_true", help="the dashboard tables instead")
    p.add_argument("--followups", action="store_true", help="the follow-ups instead (#15)")
    p.add_argument("--excel", action="store_true", help="UTF-8 with a BOM, for Excel")
    # Issue #29: Excel in a language that writes 1,5 reads ";"-separated files
    # with decimal commas; every other CSV is the same in every language.
    p.add_argument(
        "--lang",
        choices=list(words.LANGUAGES),
        metavar="LANG",
        help="with --summary --excel: the decimal sign and separator of this language's Excel",
    )
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")

    # Issue #11: the first-run code, for whoever can run commands on the server.
    p = commands.add_parser(
        "setup-code", help="print the one-time code the first-run page asks for"
    )
    p.add_argument(
        "--db",
        type=str,
        default=None,
        help="database file or postgresql:// address (default: CXLOG_DB)",
    )
    # Issue #28: named accounts from the server's console (a lost owner password).
    p = commands.add_parser("account", help="list, add or reset a manager's or owner's account")
    p.add_argument("action", choices=["list", "add", "reset"])
    p.add_argument("name", nargs="?", help="the name the account signs in with")
    p.add_argument("--role", choices=["manager", "owner"], default="manager")
    p.add_argument(
        "--store",
        action="append",
        default=[],
        help="a manager's store, by id or name (repeat for an area manager)",
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of asking",
    )
    p.add_argument(
        "--db",
        type=str,
        default=None,
        help="database file or postgresql:// address (default: CXLOG_DB)",
    )
    # Issue #12: recount the rollups from the visits; report and fix differences.
    p = commands.add_parser("rollup", help="check the dashboard's rollups against the visits")
    p.add_argument(
        "--db",
        type=str,
        default=None,
        help="database file or postgresql:// address (default: CXLOG_DB)",
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        required=True,
        help="recompute every rollup row from the visits and fix the ones that differ",
    )

    # Issue #14: the morning huddle card as Markdown, e.g. for a scheduled e-mail.
    p = commands.add_parser("huddle", help="a store's morning huddle card, as Markdown")
    p.add_argument(
        "--db",
        type=str,
        default=None,
        help="database file or postgresql:// address (default: CXLOG_DB)",
    )
    p.add_argument("--store", required=True, metavar="S", help="a store id or exact name")
    p.add_argument(
        "--date", metavar="DATE", help="the huddle's day, YYYY-MM-DD (default: the store's today)"
    )
    # Issue #29: the card in the store's language, or the one asked for.
    p.add_argument(
        "--lang",
        choices=list(words.LANGUAGES),
        metavar="LANG",
        help=f"the card's language, one of {', '.join(words.LANGUAGES)} "
        "(default: the store's language, else English)",
    )

    # Issue #13: door-counter traffic and POS totals, for scheduled jobs.
    p = commands.add_parser(
        "import",
        help="door-counter traffic or POS totals from a CSV file",
        description="A bad file is refused whole (one sentence per bad line); a good one "
        "replaces the hours (traffic) or days (POS) it holds, so importing it again never "
        "doubles a count.",
    )
    p.add_argument("kind", choices=[import_formats.TRAFFIC, import_formats.POS])
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument(
        "--db",
        type=str,
        default=None,
        help="database file or postgresql:// address (default: CXLOG_DB)",
    )
    p.add_argument("--store", required=True, metavar="S", help="the store's id or exact name")
    p.add_argument(
        "--format",
        default="generic",
        help="traffic: "
        + ", ".join(import_formats.TRAFFIC_FORMATS)
        + "; pos: "
        + ", ".join(import_formats.POS_FORMATS)
        + " (default: generic)",
    )
    p.add_argument(
        "--map", default="", metavar="FIELD=COLUMN,…", help="column names, e.g. in=Enters"
    )

    p = commands.add_parser("backup", help="a verified copy of the database, safe while in use")
    p.add_argument(
        "--db",
        type=str,
        default=None,
        help="database file or postgresql:// address (default: CXLOG_DB)",
    )
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")

    # Issue #27: a store joins a chain's PostgreSQL, or leaves it for a file.
    p = commands.add_parser(
        "copy",
        help="copy stores between databases (SQLite file ↔ PostgreSQL), in one transaction",
        description="Copies stores with their visits, audit, follow-ups, counter data, people "
        "and settings. Into a database with no store yet, everything is copied as it is; "
        "otherwise the stores are renumbered into the destination. Rollups are rebuilt and "
        "checked before anything is saved.",
    )
    p.add_argument("--from", dest="source", required=True, metavar="SRC", help="file or address")
    p.add_argument("--to", dest="target", required=True, metavar="DST", help="file or address")
    p.add_argument("--store", default=None, metavar="S", help="only this store (id or name)")
    p.add_argument(
        "--merge",
        action="store_true",
        help="a store of the same name that has visits gets the ones it lacks",
    )
    p.set_defaults(db=None)
    return parser


def _copy(args: argparse.Namespace) -> str:
    from cxlog.stores import moving

    source, target = open_storage(args.source), open_storage(args.target)
    moved = moving.copy(source, target, args.store, merge=args.merge)
    how = "as it was" if moved.whole else "renumbered"
    stores = ", ".join(f"{a}→{b}" for a, b in moved.stores.items())
    return (
        f"Copied {len(moved.stores)} store(s) ({how}: {stores}) with {moved.visits:,} visits"
        f" from {source.shown} to {target.shown}; rollups rebuilt and checked"
    )


def _require(storage: Storage | PostgresStorage) -> None:
    if not storage.exists():
        raise ValidationError(f"There is no database at {storage.shown}.")


def _export(storage: Storage, args: argparse.Namespace) -> str:
    from cxlog.export import export

    _require(storage)
    selection = export.ExportSelection(
        first_day=export.parse_day(args.first_day, "--from date"),
        last_day=export.parse_day(args.last_day, "--to date"),
        store_ids=(export.find_store(storage, args.store),) if args.store else (),
        include_voided=args.include_voided,
    )
    if args.summary and args.followups:
        raise ValidationError("Pick one of --summary and --followups.")
    what = "summary rows" if args.summary else "visits"
    if args.summary:  # the summary's modules import pandas
        from cxlog.export.summary import export_summary_file as write
    elif args.followups:
        from cxlog.export.followups_csv import export_followups_file as write

        what = "follow-ups"
    else:
        write = export.export_visits_file
    with words.using(args.lang):
        count = write(storage, args.output, selection, for_excel=args.excel)
    return f"Wrote {count:,} {what} to {args.output}"


def _backup(storage: Storage, args: argparse.Namespace) -> str:
    from cxlog.storage import backup

    made = backup.make_backup(storage, args.output)
    return (
        f"Backed up {made.visits:,} visits ({made.size_bytes / 1e6:.1f} MB, integrity ok)"
        f" to {made.path}"
    )


def _rollup(storage: Storage) -> str:
    from cxlog.numbers import derived

    _require(storage)
    started = time.perf_counter()
    storage.migrate()  # an older file gains its rollups first
    with storage.write() as db:
        stores = db.execute("SELECT count(*) FROM stores").fetchone()[0]
        made = derived.rebuild(db)
    lines = [f"Derived tables checked against the stored rows of {stores} store(s):"]
    for table in derived.TABLES:
        found = made[table.name]
        lines.append(
            f"{table.title}: {found.corrected:,} rows corrected, {found.rows:,} rows in all."
        )
        lines.extend(
            f"  store {store_id}: {count:,} rows" if store_id else f"  gone stores: {count:,} rows"
            for store_id, count in sorted(found.by_store.items())
        )
    lines.append(f"({time.perf_counter() - started:.1f} s)")
    return "\n".join(lines)


def _huddle(storage: Storage, args: argparse.Namespace) -> str:
    from cxlog.coaching import coaching
    from cxlog.export import export
    from cxlog.storage import settings

    _require(storage)
    storage.migrate()  # the coaching tables, on a database from before #14
    day = export.parse_day(args.date, "--date") if args.date else None
    store_id = export.find_store(storage, args.store)
    # The page's card in the same language is this very text (tests/test_huddle_language.py).
    with words.using(args.lang or settings.store_language(storage, store_id)):
        return coaching.markdown(coaching.huddle_card(storage, store_id, day))


def _import(storage: Storage, args: argparse.Namespace) -> str:
    from cxlog.coverage import traffic
    from cxlog.stores import catalog

    _require(storage)
    storage.migrate()  # the import tables, on a database from before them
    store_id = export.find_store(storage, args.store)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise ValidationError(f"The file {args.file} cannot be read: {exc.strerror}.") from None
    done = traffic.import_file(
        storage, args.kind, store_id, data, fmt=args.format, mapping=args.map, actor="cli"
    )
    return done.sentence(
        next(s["name"] for s in catalog.list_stores(storage) if s["id"] == store_id)
    )


def _password(args: argparse.Namespace) -> str:
    """The new password: one line of standard input, or asked twice on the console."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("New password: ")
    if getpass.getpass("The same again: ") != first:
        raise ValidationError("The two passwords differ; nothing was changed.")
    return first


def _account(storage, args: argparse.Namespace) -> str:
    from cxlog.access import accounts

    storage.migrate()
    if args.action == "list":
        lines = []
        for a in accounts.list_accounts(storage):
            where = "every store" if a["role"] == "owner" else f"stores {a['stores']}"
            lines.append(f"{a['login']}\t{a['role']}\t{where}")
        return "\n".join(lines) or "No accounts yet: the first-run page makes the owner's."
    if not args.name:
        raise ValidationError("Name the account: python -m cxlog account add NAME.")
    row = accounts.find(storage, args.name)
    if args.action == "reset":
        if row is None:
            raise ValidationError(f"There is no account named {args.name!r}.")
        accounts.set_password(storage, row["id"], _password(args), actor="cli")
        return f"Password of {row['login']} reset; their sessions ended."
    stores = [export.find_store(storage, s) for s in args.store]
    if args.role == "manager" and not stores:
        raise ValidationError("A manager needs at least one --store.")
    accounts.add(storage, args.name, args.role, _password(args), stores, actor="cli")
    return f"Account {args.name} added ({args.role})."


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        storage = open_storage(args.db)
        if args.command == "demo":
            from cxlog import demo

            started = time.perf_counter()
            result = demo.generate(
                storage,
                visits=args.visits,
                days=args.days,
                stores=args.stores,
                associates=args.associates,
                seed=args.seed,
            )
            print(
                f"{demo.describe(result)} ({time.perf_counter() - started:.1f} s) → {storage.shown}"
            )
            if args.traffic:
                from cxlog.coverage import traffic_demo

                hours, days = traffic_demo.add(storage, seed=args.seed)
                print(f"Added {hours:,} counter hours and {days:,} days of POS totals.")
        elif args.command == "migrate":
            storage.migrate()
            print(f"Schema up to date: {storage.shown}")
        elif args.command == "setup-code":
            from cxlog.access import first_run

            storage.migrate()
            code = first_run.setup_code(storage)
            print(code or "cxlog is already set up: there is no setup code.")
        elif args.command == "account":
            print(_account(storage, args))
        elif args.command == "rollup":
            print(_rollup(storage))
        elif args.command == "huddle":
            print(_huddle(storage, args), end="")
        elif args.command == "import":
            print(_import(storage, args))
        elif args.command == "copy":
            started = time.perf_counter()
            print(f"{_copy(args)} ({time.perf_counter() - started:.1f} s)")
        elif args.command in ("export", "backup"):
            started = time.perf_counter()
            message = (_export if args.command == "export" else _backup)(storage, args)
            print(f"{message} ({time.perf_counter() - started:.1f} s)")
    except CxlogError as exc:
        print(f"cxlog: {exc}", file=sys.stderr)
        return 2
    return 0
