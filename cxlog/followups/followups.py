"""After the visit: follow-ups promised, done and paying off (issue #15).

A follow-up is tied to a *visit code* — five characters the associate writes
on the receipt, the customer's card or the store's own CRM — never to a
person: no name, phone number, e-mail address or note is stored or accepted
(the schema's CHECKs refuse them too). Days (due, done, on time) are the
store's local calendar days.

Every write is one transaction with an audit row; a write that would change
nothing a second time (a double tap, a retry) refuses with one sentence and
changes nothing, except a promise repeated exactly, which returns the stored
one (the pad's outbox may send it twice).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from cxlog.access import limits
from cxlog.calendar import localday, periods
from cxlog.core import actors, model
from cxlog.core.errors import NotFoundError, ValidationError
from cxlog.core.model import (
    ENGAGEMENT_LABELS,
    FIRST_ENGAGEMENTS,
    MIN_SAMPLE,
    PURCHASED,
    connection_depth,
    entry_name,
    to_utc_text,
    utc_now,
)
from cxlog.language import formats
from cxlog.language.words import N_, _, n_, shown
from cxlog.numbers.figures import interval, percent
from cxlog.numbers.metrics import Rate
from cxlog.storage import settings
from cxlog.storage.db import Storage, audit
from cxlog.storage.engine import Database
from cxlog.stores import catalog

# --- vocabulary -------------------------------------------------------------------
# The keys are stored and sent by the pad; the words are marked for the
# catalog and shown through ``_`` (here, on the Follow-ups page, on the pad).

CALL, TEXT, EMAIL, IN_STORE = "call", "text", "email", "in_store"
CHANNELS: dict[str, str] = {
    CALL: N_("Call"),
    TEXT: N_("Text"),
    EMAIL: N_("E-mail"),
    IN_STORE: N_("In store"),
}

TOMORROW, IN_3_DAYS, IN_A_WEEK = "tomorrow", "in_3_days", "in_a_week"
DUE_CHOICES: dict[str, tuple[str, int]] = {
    TOMORROW: (N_("Tomorrow"), 1),
    IN_3_DAYS: (N_("In 3 days"), 3),
    IN_A_WEEK: (N_("In a week"), 7),
}
# A promise further out than this is a typo, not a plan.
MAX_DAYS_AHEAD = 366

REACHED, NO_ANSWER, BOUGHT, CAME_BACK, NOT_NEEDED = (
    "reached",
    "no_answer",
    "bought",
    "came_back",
    "not_needed",
)
RESULTS: dict[str, str] = {
    REACHED: N_("Reached"),
    NO_ANSWER: N_("No answer"),
    BOUGHT: N_("Came back and bought"),
    CAME_BACK: N_("Came back, no purchase"),
    NOT_NEEDED: N_("Not needed"),
}
# The same results inside a sentence ("K7M4Q is already done (reached)").
RESULT_WORDS: dict[str, str] = {
    REACHED: N_("reached"),
    NO_ANSWER: N_("no answer"),
    BOUGHT: N_("came back and bought"),
    CAME_BACK: N_("came back, no purchase"),
    NOT_NEEDED: N_("not needed"),
}
# "No answer" is an attempt, not an end: the follow-up stays open, due again
# on the retry day. The others close it.
FINAL_RESULTS: tuple[str, ...] = (REACHED, BOUGHT, CAME_BACK, NOT_NEEDED)

# Visit codes: no 0/O, 1/I/L, 2/Z, 5/S, 8/B — characters misread on a receipt.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 5
# A code names one visit of a store for a year; after that it may be reused.
CODE_LIFETIME = timedelta(days=365)
# Looking up a visit code (a return): 10 in a burst, then one every 30 s, per
# associate and per address (issue #25). A store links a few returns a day.
CODE_LOOKUP_BURST = 10.0
CODE_LOOKUP_REFILL = timedelta(seconds=30)
_CODE_TRIES = 50

WINDOW_KEY = "followup_window_days:{store_id}"
DEFAULT_WINDOW_DAYS = 14
MAX_WINDOW_DAYS = 365

TODAY, OVERDUE, UPCOMING, DONE = "today", "overdue", "upcoming", "done"
SECTIONS: dict[str, str] = {
    TODAY: N_("Today"),
    OVERDUE: N_("Overdue"),
    UPCOMING: N_("Upcoming"),
    DONE: N_("Done"),
}
DONE_DAYS = 7  # the Done section shows the last week
LIST_LIMIT = 100  # per section: a list a person reads, not an export

# --- small helpers ------------------------------------------------------------------


def _day(text: str) -> str:
    """A stored day (YYYY-MM-DD) as people read it."""
    return localday.day_text(date.fromisoformat(text))


def channel(value: object) -> str:
    if value not in CHANNELS:
        raise ValidationError(_("The channel must be Call, Text, E-mail or In store."))
    return value  # type: ignore[return-value]


def due_day(choice: object, today: date) -> date:
    """Tomorrow, in 3 days, in a week, or a date (a ``date`` or YYYY-MM-DD)."""
    if isinstance(choice, str) and choice in DUE_CHOICES:
        return today + timedelta(days=DUE_CHOICES[choice][1])
    if isinstance(choice, str):
        try:
            choice = date.fromisoformat(choice.strip())
        except ValueError:
            choice = None
    if not isinstance(choice, date) or isinstance(choice, datetime):
        raise ValidationError(
            _("Pick when: tomorrow, in 3 days, in a week, or a date written like 2026-12-01.")
        )
    if choice < today:
        raise ValidationError(
            _("{day} has passed; pick today or a later day.").format(day=localday.day_text(choice))
        )
    if (choice - today).days > MAX_DAYS_AHEAD:
        raise ValidationError(_("A follow-up can be at most a year ahead."))
    return choice


def normalise_code(text: object) -> str:
    """A typed code: case, spaces and dashes do not matter."""
    if not isinstance(text, str):
        raise ValidationError(_("Type the visit code written on the receipt, like K7M4Q."))
    code = "".join(ch for ch in text.upper() if ch not in " -\t")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        raise ValidationError(
            n_(
                "A visit code is {length} letters and digits, like K7M4Q; "
                "check what was typed ({n} character).",
                "A visit code is {length} letters and digits, like K7M4Q; "
                "check what was typed ({n} characters).",
                len(code),
            ).format(length=CODE_LENGTH, n=len(code))
        )
    return code


def window_days(storage: Storage, store_id: int) -> int:
    """Days after the promise in which "came back and bought" counts as converted."""
    with storage.read() as db:
        return _window(db, store_id)


def _window(db: Database, store_id: int) -> int:
    row = db.execute(
        "SELECT value FROM settings WHERE key = ?", [WINDOW_KEY.format(store_id=store_id)]
    ).fetchone()
    return _window_of(row[0] if row else None)


def _window_of(value: object) -> int:
    """A stored window setting as days (the default when none or unreadable)."""
    return int(value) if value is not None and str(value).isdigit() else DEFAULT_WINDOW_DAYS


def set_window_days(storage: Storage, store_id: int, days: object, *, actor: str) -> None:

    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValidationError(
            _("The follow-up window is a whole number of days from 1 to {n}.").format(
                n=MAX_WINDOW_DAYS
            )
        )
    settings.set_setting(storage, WINDOW_KEY.format(store_id=store_id), str(days), actor=actor)


# --- reading --------------------------------------------------------------------------


def _associate(db: Database, associate_id: int) -> dict:
    rows = list(
        db.query(
            "SELECT a.id, a.store_id, a.name, a.active, s.timezone FROM associates a"
            " JOIN stores s ON s.id = a.store_id WHERE a.id = ?",
            [associate_id],
        )
    )
    if not rows or not rows[0]["active"]:
        raise ValidationError(_("That associate cannot record follow-ups; sign in again."))
    return rows[0]


def _visit(db: Database, visit_id: object, store_id: int) -> dict:
    rows = list(
        db.query(
            "SELECT id, store_id, outcome, voided_at, started_at FROM visits WHERE id = ?",
            [model.visit_id(visit_id)],
        )
    )
    # Another store's visit reads exactly like a missing one: nothing leaks.
    if not rows or rows[0]["store_id"] != store_id:
        raise NotFoundError(_("That visit is not in this store's records; reload the page."))
    return rows[0]


def _code_of(db: Database, store_id: int, visit_id: str) -> str | None:
    row = db.execute(
        "SELECT code FROM visit_codes WHERE store_id = ? AND visit_id = ?", [store_id, visit_id]
    ).fetchone()
    return row[0] if row else None


def _ensure_code(db: Database, store_id: int, visit_id: str, now: datetime) -> str:
    """The visit's code, drawn now if it has none: unique in the store among
    codes drawn in the last year (inside the caller's write transaction, so
    two devices cannot draw the same one)."""
    code = _code_of(db, store_id, visit_id)
    if code:
        return code
    since = to_utc_text(now - CODE_LIFETIME)
    for _try in range(_CODE_TRIES):
        code = "".join(secrets.choice(ALPHABET) for _char in range(CODE_LENGTH))
        taken = db.execute(
            "SELECT 1 FROM visit_codes WHERE store_id = ? AND code = ? AND assigned_at >= ?",
            [store_id, code, since],
        ).fetchone()
        if not taken:
            db.execute(
                "INSERT INTO visit_codes (store_id, code, visit_id, assigned_at)"
                " VALUES (?, ?, ?, ?)",
                [store_id, code, visit_id, to_utc_text(now)],
            )
            return code
    raise ValidationError(_("No free visit code was found; tap again."))  # pragma: no cover


def _by_code(db: Database, store_id: int, code: object, now: datetime) -> dict:
    code = normalise_code(code)
    rows = list(
        db.query(
            "SELECT c.visit_id, v.voided_at FROM visit_codes c JOIN visits v ON v.id = c.visit_id"
            " WHERE c.store_id = ? AND c.code = ? AND c.assigned_at >= ?"
            " ORDER BY c.assigned_at DESC LIMIT 1",
            [store_id, code, to_utc_text(now - CODE_LIFETIME)],
        )
    )
    if not rows:
        raise NotFoundError(
            _(
                "No visit of this store has the code {code} (codes last a year); check the receipt."
            ).format(code=code)
        )
    return rows[0]


_ITEM = """
SELECT f.*, c.code, v.first_engagement, v.outcome, v.units AS visit_units,
       v.started_at AS visit_started_at, v.voided_at AS visit_voided_at,
       r.name AS reason_name, n.name AS no_sale_reason_name,
       p.name AS promised_by_name, d.name AS result_by_name
FROM followups f
JOIN visits v ON v.id = f.visit_id
LEFT JOIN visit_codes c ON c.store_id = f.store_id AND c.visit_id = f.visit_id
LEFT JOIN reasons r ON r.id = v.reason_id
LEFT JOIN reasons n ON n.id = v.no_sale_reason_id
JOIN associates p ON p.id = f.promised_by
LEFT JOIN associates d ON d.id = f.result_by
"""


def _followup(db: Database, followup_id: object, store_id: int) -> dict:
    if isinstance(followup_id, bool) or not isinstance(followup_id, int):
        raise ValidationError(_("That follow-up reference is not valid; reload the page."))
    rows = list(db.query(_ITEM + " WHERE f.id = ?", [followup_id]))
    if not rows or rows[0]["store_id"] != store_id:
        raise NotFoundError(_("That follow-up is not in this store's list; reload the page."))
    return rows[0]


def get_followup(storage: Storage, followup_id: int, store_id: int) -> dict:
    with storage.read() as db:
        return _followup(db, followup_id, store_id)


def visit_code(
    storage: Storage, visit_id: str, store_id: int, *, now: datetime | None = None
) -> str:
    """The visit's code, assigned the first time it is asked for."""
    with storage.write() as db:
        _visit(db, visit_id, store_id)
        return _ensure_code(db, store_id, visit_id, now or utc_now())


# --- writing ----------------------------------------------------------------------------


def promise(
    storage: Storage,
    visit_id: str,
    due: object,
    channel_name: object,
    *,
    associate_id: int,
    now: datetime | None = None,
) -> tuple[dict, bool]:
    """Promise a follow-up for a closed visit. Returns the follow-up (with its
    visit code) and whether this call made it; the same promise again returns
    the stored one unchanged."""
    now = now or utc_now()
    channel_name = channel(channel_name)
    with storage.write() as db:
        me = _associate(db, associate_id)
        store_id = me["store_id"]
        today = localday.today(me["timezone"], now)
        visit = _visit(db, visit_id, store_id)
        due_on = due_day(due, today).isoformat()
        if visit["voided_at"] is not None:
            raise ValidationError(
                _("That visit was voided; a follow-up cannot be promised for it.")
            )
        if visit["outcome"] is None:
            raise ValidationError(
                _("Close the visit first (purchase or no purchase), then promise.")
            )
        existing = db.execute(
            "SELECT id, promised_due_on, channel FROM followups"
            " WHERE store_id = ? AND visit_id = ?",
            [store_id, visit["id"]],
        ).fetchone()
        if existing:
            if (existing[1], existing[2]) == (due_on, channel_name):
                return _followup(db, existing[0], store_id), False
            code = _code_of(db, store_id, visit["id"])
            raise ValidationError(
                _(
                    "A follow-up is already promised for visit {code} ({channel}, due {day}); "
                    "nothing changed."
                ).format(code=code, channel=_(CHANNELS[existing[2]]), day=_day(existing[1]))
            )
        _ensure_code(db, store_id, visit["id"], now)
        stamp = to_utc_text(now)
        cursor = db.execute(
            "INSERT INTO followups (store_id, visit_id, channel, promised_at, promised_on,"
            " promised_by, promised_due_on, due_on, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                store_id,
                visit["id"],
                channel_name,
                stamp,
                today.isoformat(),
                associate_id,
                due_on,
                due_on,
                stamp,
            ],
        )
        (followup_id,) = cursor.fetchone()
        audit(
            db,
            actors.associate(associate_id),
            "promise",
            "followup",
            followup_id,
            after={"visit_id": visit["id"], "due_on": due_on, "channel": channel_name},
        )
        return _followup(db, followup_id, store_id), True


def _open_for_change(db: Database, followup_id: object, me: dict) -> dict:
    item = _followup(db, followup_id, me["store_id"])
    if item["result"] is not None:
        result = shown(RESULT_WORDS[item["result"]])
        if item["result_by_name"]:
            text = _("{code} is already done ({result}, by {name}); nothing changed.")
        else:
            text = _("{code} is already done ({result}); nothing changed.")
        raise ValidationError(
            text.format(code=item["code"], result=result, name=item["result_by_name"])
        )
    if item["visit_voided_at"] is not None:
        raise ValidationError(
            _("The visit of {code} was voided; nothing changed.").format(code=item["code"])
        )
    return item


def _write(db: Database, followup_id: int, fields: dict, stamp: str) -> None:
    sets = ", ".join(f"{column} = ?" for column in fields)
    db.execute(
        f"UPDATE followups SET {sets}, updated_at = ? WHERE id = ?",
        [*fields.values(), stamp, followup_id],
    )


def record_result(
    storage: Storage,
    followup_id: int,
    result: object,
    *,
    associate_id: int,
    retry: object = TOMORROW,
    units: object = None,
    amount_cents: object = None,
    now: datetime | None = None,
) -> dict:
    """Record what came of a follow-up. "No answer" keeps it open, due again on
    the retry day; every other result closes it. A follow-up already closed,
    or a no-answer retry to the day it is already due (a double tap), refuses."""
    if result not in RESULTS:
        raise ValidationError(
            _(
                "The result must be reached, no answer, came back and bought, "
                "came back without buying, or not needed."
            )
        )
    now = now or utc_now()
    with storage.write() as db:
        me = _associate(db, associate_id)
        item = _open_for_change(db, followup_id, me)
        today = localday.today(me["timezone"], now)
        stamp = to_utc_text(now)
        fields: dict = {"first_action_on": item["first_action_on"] or today.isoformat()}
        if result == NO_ANSWER:
            retry_on = due_day(retry, today).isoformat()
            if retry_on == item["due_on"] and item["attempts"] > 0:
                raise ValidationError(
                    _("{code} is already set to retry on {day}; nothing changed.").format(
                        code=item["code"], day=_day(retry_on)
                    )
                )
            fields.update(due_on=retry_on, attempts=item["attempts"] + 1)
        else:
            fields.update(result=result, result_at=stamp, result_on=today.isoformat())
            fields["result_by"] = associate_id
            if result == BOUGHT:
                fields["units"] = model.units(units)
                fields["amount_cents"] = model.amount_cents(amount_cents)
            elif units is not None or amount_cents is not None:
                raise ValidationError(_("Units and an amount go only with 'came back and bought'."))
        _write(db, item["id"], fields, stamp)
        audit(
            db,
            actors.associate(associate_id),
            "result",
            "followup",
            item["id"],
            before={k: item[k] for k in fields},
            after={**fields, "outcome": result},
        )
        return _followup(db, item["id"], me["store_id"])


def snooze(
    storage: Storage,
    followup_id: int,
    until: object,
    *,
    associate_id: int,
    now: datetime | None = None,
) -> dict:
    """Move an open follow-up to a later day (the promise's first day is kept
    for "done on time")."""
    now = now or utc_now()
    with storage.write() as db:
        me = _associate(db, associate_id)
        item = _open_for_change(db, followup_id, me)
        due_on = due_day(until, localday.today(me["timezone"], now)).isoformat()
        if due_on == item["due_on"]:
            raise ValidationError(
                _("{code} is already due on {day}; nothing changed.").format(
                    code=item["code"], day=_day(due_on)
                )
            )
        fields = {"due_on": due_on, "snoozes": item["snoozes"] + 1}
        _write(db, item["id"], fields, to_utc_text(now))
        audit(
            db,
            actors.associate(associate_id),
            "snooze",
            "followup",
            item["id"],
            before={k: item[k] for k in fields},
            after=fields,
        )
        return _followup(db, item["id"], me["store_id"])


def mark_return(
    storage: Storage,
    visit_id: str,
    code: object,
    *,
    associate_id: int,
    address: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Mark a visit as a customer's return, linked to the earlier visit whose
    code they bring (typed, or tapped in the list). The link is kept; the
    earlier visit's follow-up, if any, remembers the return visit.
    ``address`` is the request's, when it came through the API."""
    now = now or utc_now()
    with storage.read() as db:
        store_id = _associate(db, associate_id)["store_id"]
    # Issue #25: code look-ups are throttled per associate and per address
    # (25^5 codes; 300 guesses took under 2 s), counted before the look-up.
    buckets = [
        limits.Bucket(
            f"code:associate:{associate_id}",
            CODE_LOOKUP_BURST,
            CODE_LOOKUP_REFILL,
            N_("Many visit codes were tried in a short time; wait {wait} s and try again."),
        )
    ]
    if address is not None:
        buckets.append(
            limits.Bucket(
                f"code:address:{address}",
                CODE_LOOKUP_BURST,
                CODE_LOOKUP_REFILL,
                N_("Many visit codes were tried from this device; wait {wait} s and try again."),
            )
        )
    limits.take(storage, store_id, buckets, now=now)
    with storage.write() as db:
        visit = _visit(db, visit_id, store_id)
        if visit["voided_at"] is not None:
            raise ValidationError(_("That visit was voided; it cannot be marked as a return."))
        # Whether this visit is linked already is settled before the code is
        # looked up, so the answer never tells whether a code exists (#25).
        linked = db.execute(
            "SELECT r.original_visit_id, c.code FROM visit_returns r"
            " LEFT JOIN visit_codes c ON c.store_id = r.store_id"
            " AND c.visit_id = r.original_visit_id"
            " WHERE r.store_id = ? AND r.visit_id = ?",
            [store_id, visit["id"]],
        ).fetchone()
        if linked:
            if linked[1] == normalise_code(code):
                result = {"visit_id": visit["id"], "original_visit_id": linked[0]}
                return {**result, "code": linked[1], "created": False}
            raise ValidationError(
                _("This visit is already marked as the return of another visit; nothing changed.")
            )
        original = _by_code(db, store_id, code, now)
        if original["visit_id"] == visit["id"]:
            raise ValidationError(
                _("That is this visit's own code; type the earlier visit's code.")
            )
        if original["voided_at"] is not None:
            raise ValidationError(_("The visit with that code was voided; check the code."))
        result = {"visit_id": visit["id"], "original_visit_id": original["visit_id"]}
        db.execute(
            "INSERT INTO visit_returns (store_id, visit_id, original_visit_id, linked_at,"
            " linked_by) VALUES (?, ?, ?, ?, ?)",
            [store_id, visit["id"], original["visit_id"], to_utc_text(now), associate_id],
        )
        db.execute(
            "UPDATE followups SET return_visit_id = ?, updated_at = ?"
            " WHERE store_id = ? AND visit_id = ? AND return_visit_id IS NULL",
            [visit["id"], to_utc_text(now), store_id, original["visit_id"]],
        )
        audit(db, actors.associate(associate_id), "return", "visit", visit["id"], after=result)
        return {**result, "code": normalise_code(code), "created": True}


def returns_of(storage: Storage, store_id: int, original_visit_id: str) -> list[str]:
    """The visits marked as returns of a visit, oldest first."""
    with storage.read() as db:
        return [
            r[0]
            for r in db.execute(
                "SELECT visit_id FROM visit_returns WHERE store_id = ? AND original_visit_id = ?"
                " ORDER BY linked_at",
                [store_id, original_visit_id],
            )
        ]


# --- the associates' list ---------------------------------------------------------------


def followup_list(
    storage: Storage,
    store_id: int,
    *,
    now: datetime | None = None,
    done_days: int = DONE_DAYS,
    limit: int = LIST_LIMIT,
) -> dict[str, list[dict]]:
    """Today / Overdue / Upcoming / Done for a store, in its local days.

    Open follow-ups come from a partial index of the open ones only, done ones
    from the last ``done_days`` days: the list costs the same in a store's
    tenth year as in its first. Overdue oldest first, the others by day.
    """
    now = now or utc_now()
    with storage.read() as db:
        zone = db.execute("SELECT timezone FROM stores WHERE id = ?", [store_id]).fetchone()
        if zone is None:
            raise NotFoundError(_("That store does not exist."))
        today = localday.today(zone[0], now).isoformat()
        since = (localday.today(zone[0], now) - timedelta(days=done_days - 1)).isoformat()
        base = _ITEM.replace("FROM followups f", "FROM followups f INDEXED BY {index}")

        def query(index: str, where: str, order: str, params: list) -> list[dict]:
            sql = base.format(index=index) + f" WHERE f.store_id = ? AND {where} ORDER BY {order}"
            return list(db.query(sql + " LIMIT ?", [store_id, *params, limit]))

        open_where = "f.result IS NULL AND v.voided_at IS NULL AND f.due_on "
        return {
            TODAY: query("followups_open", open_where + "= ?", "f.id", [today]),
            OVERDUE: query("followups_open", open_where + "< ?", "f.due_on, f.id", [today]),
            UPCOMING: query("followups_open", open_where + "> ?", "f.due_on, f.id", [today]),
            DONE: query(
                "followups_done",
                "f.result IS NOT NULL AND f.result_on >= ?",
                "f.result_at DESC",
                [since],
            ),
        }


def recently_closed(
    storage: Storage,
    store_id: int,
    associate_id: int,
    *,
    now: datetime | None = None,
    hours: int = 12,
    limit: int = 8,
) -> list[dict]:
    """This shift's visits (started or closed by the associate in the last
    ``hours``) that are closed, not voided and have no follow-up yet: the
    "Promise a follow-up" list, newest first."""
    now = now or utc_now()
    with storage.read() as db:
        return list(
            db.query(
                "SELECT v.id, v.started_at, v.closed_at, v.first_engagement, v.outcome, v.units,"
                " r.name AS reason_name, n.name AS no_sale_reason_name"
                " FROM visits v LEFT JOIN reasons r ON r.id = v.reason_id"
                " LEFT JOIN reasons n ON n.id = v.no_sale_reason_id"
                " WHERE v.store_id = ? AND v.started_at >= ? AND v.outcome IS NOT NULL"
                " AND v.voided_at IS NULL AND (v.associate_id = ? OR v.closed_by = ?)"
                " AND NOT EXISTS (SELECT 1 FROM followups f"
                "   WHERE f.store_id = v.store_id AND f.visit_id = v.id)"
                " ORDER BY v.closed_at DESC LIMIT ?",
                [
                    store_id,
                    to_utc_text(now - timedelta(hours=hours)),
                    associate_id,
                    associate_id,
                    limit,
                ],
            )
        )


def visit_summary(item: dict) -> str:
    """ "Gift · no purchase (Price)": the original visit, in the list's words."""
    reason = entry_name(item.get("reason_name")) or _("no reason")
    units = item.get("visit_units", item.get("units"))
    if item.get("outcome") == PURCHASED:
        outcome = n_("bought {n} unit", "bought {n} units", units or 0).format(n=units)
    else:
        why = entry_name(item.get("no_sale_reason_name"))
        outcome = _("no purchase ({reason})").format(reason=why) if why else _("no purchase")
    return f"{reason} · {outcome}"


# --- the dashboard's numbers --------------------------------------------------------------


@dataclass(frozen=True)
class Numbers:
    """Follow-up numbers for a period (docs/product.md "Follow-up conversion").

    ``promised``: promised in the period. ``due``: first due in the period
    (voided visits left out) — the denominator of ``conversion`` and
    ``on_time``. ``overdue``: open and past due now. ``conversion``: of those
    due, "came back and bought" within the store's window after the promise.
    ``done_by``: follow-ups closed in the period, per associate who closed them.
    """

    promised: int = 0
    due: int = 0
    done_on_time: int = 0
    overdue: int = 0
    bought: int = 0
    by_engagement: dict[str, Rate] = field(default_factory=dict)
    by_depth: dict[int, Rate] = field(default_factory=dict)
    done_by: dict[int, int] = field(default_factory=dict)

    @property
    def conversion(self) -> Rate:
        return Rate(self.bought, self.due)

    @property
    def any(self) -> bool:
        """Whether there is anything to show (a store may not use follow-ups)."""
        return bool(self.promised or self.due or self.overdue or self.done_by)

    @property
    def on_time(self) -> Rate:
        return Rate(self.done_on_time, self.due)


# One pass per store, summed by SQLite over one index range, in the index's
# order (no sort): each follow-up carries the visit columns these numbers
# need (visit_*, kept equal to the visit by triggers, cxlog/storage/migrations.py),
# so no visit is looked up (a year of 10 stores' ~55k follow-ups joined to
# their visits took ~460 ms). Groups are (engagement, recommended, reason,
# closed by); depth is summed from them in Python. Counts are sums of CASE,
# not of a comparison: PostgreSQL's sum(boolean) is cxlog's own aggregate,
# a SQL function call per row (36 ms a store there, against 0.04 on SQLite).
_NUMBERS = """
SELECT f.visit_engagement, f.visit_recommended, f.visit_reason_id, f.result_by,
       sum(CASE WHEN f.promised_on BETWEEN :lo AND :hi THEN 1 ELSE 0 END) AS promised,
       sum(CASE WHEN f.promised_due_on BETWEEN :lo AND :hi THEN 1 ELSE 0 END) AS due,
       sum(CASE WHEN f.promised_due_on BETWEEN :lo AND :hi AND f.result = 'bought'
           AND julianday(f.result_on) - julianday(f.promised_on) <= :window
           THEN 1 ELSE 0 END) AS won,
       sum(CASE WHEN f.promised_due_on BETWEEN :lo AND :hi
           AND f.first_action_on <= f.promised_due_on THEN 1 ELSE 0 END) AS on_time,
       sum(CASE WHEN f.result IS NULL AND f.due_on < :today THEN 1 ELSE 0 END) AS overdue,
       sum(CASE WHEN f.result IS NOT NULL AND f.result_on BETWEEN :lo AND :hi
           THEN 1 ELSE 0 END) AS done
FROM followups f INDEXED BY followups_numbers
WHERE f.store_id = :store AND f.visit_voided = 0
  AND (f.promised_due_on BETWEEN :lo AND :hi OR f.promised_on BETWEEN :lo AND :hi
       OR f.result_on BETWEEN :lo AND :hi OR (f.result IS NULL AND f.due_on < :today))
  AND (CAST(:associate AS INTEGER) IS NULL OR f.promised_by = :associate)
  AND (CAST(:reason AS INTEGER) IS NULL OR f.visit_reason_id = :reason)
GROUP BY 1, 2, 3, 4
"""


def count(
    storage: Storage,
    days: dict[int, tuple[date | None, date | None]],
    *,
    now: datetime | None = None,
    associate_id: int | None = None,
    reason_id: int | None = None,
) -> Numbers:
    """The numbers over stores' local day ranges (None: unbounded), optionally
    for the follow-ups one associate promised and visits of one reason.
    Plain sums per store, so stores add up."""
    now = now or utc_now()
    promised = due = on_time = overdue = bought = 0
    engagement: dict[str, list[int]] = {k: [0, 0] for k in FIRST_ENGAGEMENTS}
    depth: dict[int, list[int]] = {k: [0, 0] for k in range(4)}
    done_by: dict[int, int] = {}
    with storage.read() as db:
        learned = dict(db.execute("SELECT id, learned FROM reasons").fetchall())
        # Every store's zone and window at once: a chain's hundred stores
        # were 200 statements, each a round trip on PostgreSQL.
        zones = dict(db.execute("SELECT id, timezone FROM stores").fetchall())
        windows = dict(
            db.execute(
                "SELECT key, value FROM settings WHERE key LIKE ?",
                [WINDOW_KEY.format(store_id="%")],
            ).fetchall()
        )
        for store_id, (first, last) in days.items():
            zone = zones.get(store_id)
            if zone is None:
                continue
            params = {
                "store": store_id,
                "lo": (first or date.min).isoformat(),
                "hi": (last or date.max).isoformat(),
                "today": localday.today(zone, now).isoformat(),
                "window": _window_of(windows.get(WINDOW_KEY.format(store_id=store_id))),
                "associate": associate_id,
                "reason": reason_id,
            }
            for row in db.execute(_NUMBERS, params):
                fe, recommended, reason, by, n_promised, n_due, won, in_time, late, done = row
                promised, due, bought = promised + n_promised, due + n_due, bought + won
                on_time, overdue = on_time + in_time, overdue + late
                if done:
                    done_by[by] = done_by.get(by, 0) + done
                dep = connection_depth(fe, learned.get(reason), recommended)
                for table, key in ((engagement, fe), (depth, dep)):
                    table[key][0] += won
                    table[key][1] += n_due
    return Numbers(
        promised=promised,
        due=due,
        done_on_time=on_time,
        overdue=overdue,
        bought=bought,
        by_engagement={k: Rate(*v) for k, v in engagement.items()},
        by_depth={k: Rate(*v) for k, v in depth.items()},
        done_by=done_by,
    )


def dashboard_numbers(storage: Storage, selection, now: datetime) -> Numbers:
    """The numbers for a dashboard selection (cxlog.dashboard.dashboard.DashboardFilters): each
    store's own local days of the period, as the rest of the dashboard."""
    days = {}
    for store in catalog.list_stores(storage):
        if not selection.covers(store["id"]):
            continue
        span = periods.resolve(
            selection.period, store["timezone"], now, selection.first, selection.last
        )
        days[store["id"]] = (span.first_day, span.last_day)
    return count(
        storage,
        days,
        now=now,
        associate_id=selection.associate_id,
        reason_id=selection.reason_id,
    )


def tiles(numbers: Numbers) -> list[tuple[str, str, str]]:
    """The dashboard's three follow-up tiles: (label, value, caption), in the
    reader's language."""
    return [
        (_("Promised"), formats.number(numbers.promised), _("in this period")),
        (
            _("Done on time"),
            percent(numbers.on_time.value, 0),
            _("{done} of {due} due, acted on by the promised day").format(
                done=formats.number(numbers.done_on_time), due=formats.number(numbers.due)
            ),
        ),
        (_("Overdue"), formats.number(numbers.overdue), _("open and past due, now")),
    ]


def rate_rows(numbers: Numbers) -> list[dict[str, object]]:
    """The dashboard's follow-up conversion table: all, then by the original
    visit's first engagement and connection depth, each with n and interval.
    Groups under MIN_SAMPLE are marked, not hidden: follow-ups are few. A
    table for people: its columns are named in their language."""
    groups: list[tuple[str, Rate]] = [(_("All follow-ups"), numbers.conversion)]
    groups += [(_(ENGAGEMENT_LABELS[k]), numbers.by_engagement[k]) for k in FIRST_ENGAGEMENTS]
    groups += [(_("Depth {d}").format(d=k), numbers.by_depth[k]) for k in sorted(numbers.by_depth)]
    return [
        {
            _("Original visit"): label,
            _("Due"): rate.n,
            _("Came back and bought"): rate.successes,
            _("Conversion"): percent(rate.value, 0),
            _("{ci} interval").format(ci=formats.confidence()): interval(rate),
            _("Note"): _("too few to compare") if 0 < rate.n < MIN_SAMPLE else "",
        }
        for label, rate in groups
    ]
