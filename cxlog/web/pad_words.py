"""The tap pad's words (issue #29), in the language of the page that draws it.

The pad's JavaScript writes no sentence of its own: it receives these with its
data and fills the named placeholders ({n}, {name}, …) itself. Counted
sentences come in every CLDR plural category of the language, and the pad
picks one with the browser's ``Intl.PluralRules``, so "1 tap" / "2 taps" is
right in each language without the pad knowing its grammar. The pad keeps the
last words it was given (the offline pad, opened by the service worker, speaks
them too).
"""

from __future__ import annotations

import functools

from cxlog.language.words import N_, Nn_, _, current, plural_forms, using

TEXTS: dict[str, str] = {
    "warm": N_("Warm"),
    "neutral": N_("Neutral"),
    "missed": N_("Missed"),
    "used_name": N_("Used name"),
    "recommended": N_("Recommended"),
    "purchase_units": N_("purchase, {units}"),
    "no_purchase_lower": N_("no purchase"),
    "promise": N_("Follow-up: {channel}, due {day}. Write {code} on the receipt."),
    "offline": N_("Cannot reach the server. Keep logging; taps wait here."),
    "all_saved": N_("All taps saved."),
    "refused": N_("The server refused the taps ({status})."),
    "double_tap": N_("Double tap: one visit started. Another customer? Tap again."),
    "just_now": N_("just now"),
    "who": N_("Who is logging?"),
    "pin": N_("PIN"),
    "pin_for": N_("PIN for {name}"),
    "sign_in": N_("Sign in"),
    "back": N_("Back"),
    "tap_name": N_("Tap your name once per shift on this device."),
    "sign_in_failed": N_("Sign-in failed ({status})."),
    "unreachable": N_("Cannot reach the server; try again in a moment."),
    "reason": N_("Reason"),
    "change_reason": N_("Reason: {name}. Tap to change."),
    "no_purchase": N_("No purchase"),
    "fewer": N_("One unit fewer"),
    "more": N_("One unit more"),
    "save_units": N_("Save units"),
    "removed": N_("{engagement} visit removed."),
    "waiting_what": N_("Waiting: {what}"),
    "saved_what": N_("Saved: {what}"),
    "undo": N_("Undo"),
    "why_no_purchase": N_("Why no purchase? (optional)"),
    "add_amount": N_("Add sale amount"),
    "amount": N_("Sale amount"),
    "not_amount": N_("That is not an amount; type it like 12.50."),
    "save_amount": N_("Save amount"),
    "done": N_("Done"),
    "follow_up": N_("Follow-up"),
    "when_how": N_("Follow-up: when, and how? (the code to write down comes next)"),
    "due_channel": N_("{due} · {channel}"),
    "pick_day": N_("Pick a day"),
    "due_day": N_("Due day"),
    "promise_channel": N_("Promise · {channel}"),
    "no_follow_up": N_("No follow-up"),
    "came_back": N_("Came back (code)"),
    "return_of": N_("Return of visit {code}."),
    "visit_code": N_("Visit code from the receipt"),
    "link": N_("Link"),
    "cancel": N_("Cancel"),
    "link_refused": N_("The link was not saved ({status})."),
    "link_offline": N_("Cannot reach the server: the link was not saved. Try again in a moment."),
    "follow_refused": N_("The follow-up was not saved ({status})."),
    "follow_offline": N_(
        "Cannot reach the server: the follow-up was not saved. Try again in a moment."
    ),
    "chip_waiting": N_("waiting"),
    "chip_saved": N_("saved"),
    "no_reason": N_("no reason"),
    "reopen": N_("Reopen"),
    "sign_in_again": N_("Sign in again"),
    "not_you": N_("Not you?"),
    "new_customer": N_("New customer"),
    "how_start": N_("{new_customer} — how did the visit start?"),
    "no_open": N_("None right now. Tap Warm, Neutral or Missed when a customer arrives."),
    # Issue #30, time to greet (shown only when the store has it on).
    "customer_in": N_("Customer in"),
    "left_before": N_("Left before greeting"),
    "next_greeted": N_("next"),
    "left_no_purchase": N_("no purchase, left before greeting"),
    "left_lower": N_("left before greeting"),
    "greeted_after": N_("greeted after {wait}"),
    "double_arrival": N_("Double tap: one customer noted. Another customer? Tap again."),
    "fewer_waiting": N_("Show fewer"),
    # The same words as cxlog.language.formats.wait: "45 s", "2 min", "2 min 30 s".
    "wait_s": N_("{n} s"),
    "wait_min": N_("{n} min"),
    "wait_min_s": N_("{m} min {s} s"),
}

COUNTED: dict[str, tuple[str, str]] = {
    "units": Nn_("{n} unit", "{n} units"),
    "offline_waiting": Nn_(
        "Cannot reach the server: {n} tap waiting here. Keep logging.",
        "Cannot reach the server: {n} taps waiting here. Keep logging.",
    ),
    "saving": Nn_("Saving {n} tap…", "Saving {n} taps…"),
    "still_waiting": Nn_(
        "{n} tap still waiting; it must be saved before you sign out.",
        "{n} taps still waiting; they must be saved before you sign out.",
    ),
    "minutes_ago": Nn_("{n} min ago", "{n} min ago"),
    "today": Nn_("Today: {n} closed visit", "Today: {n} closed visits"),
    "open_visits": Nn_("Open visits ({n})", "Open visits ({n})"),
    "more_waiting": Nn_("+{n} more waiting", "+{n} more waiting"),
    "waiting_customers": Nn_("{n} customer waiting", "{n} customers waiting"),
}


def pad_words() -> dict:
    """The pad's words in the current language: {"lang", "text", "counted"}.
    Made once per language and process (3.5 ms, on every run of the Log
    page otherwise); the same dict each time: read it, never change it."""
    return _words_in(current())


@functools.cache
def _words_in(lang: str) -> dict:
    with using(lang):
        return {
            "lang": lang,
            "text": {key: _(message) for key, message in TEXTS.items()},
            "counted": {key: plural_forms(one, other) for key, (one, other) in COUNTED.items()},
        }
