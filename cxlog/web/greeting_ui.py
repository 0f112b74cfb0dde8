"""Time to greet on screen (issue #30): a store's rules in Settings → Store,
and the dashboard's "Time to greet" section. The numbers come from
cxlog.greeting (figures, rules); this module only lays them out, in the
dashboard's words for rates, intervals and small samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cxlog.core.model import MIN_SAMPLE
from cxlog.core.text import plain
from cxlog.dashboard import dashboard, takeaways
from cxlog.greeting import figures, rules
from cxlog.greeting.figures import Band, Greeting
from cxlog.language import formats, words
from cxlog.language.words import N_, _
from cxlog.numbers import greet_sums
from cxlog.numbers.figures import TOO_FEW, interval, percent, ups
from cxlog.numbers.greet_sums import GreetCounts
from cxlog.numbers.metrics import Rate
from cxlog.storage import settings
from cxlog.storage.db import Storage, open_storage
from cxlog.visits import arrivals
from cxlog.web import charts, ui
from cxlog.web.settings_ui import form

PLACE = "dashboard-greeting"  # where the section's error shows

# The tables' columns (shown through ``_``).
BAND_COLUMNS = (
    N_("Wait"),
    N_("Customers"),
    N_("Conversion ({ci})"),
    N_("n closed"),
    N_("UPS"),
)
ASSOCIATE_COLUMNS = (N_("Associate"), N_("Greeted"), N_("On time ({ci})"))


# --- Settings → Store ----------------------------------------------------------


def _keys(store_id: int) -> dict[str, str]:
    return {
        name: f"greet-{name}-{store_id}" for name in ("on", "standard", "limit", "bands", "goal")
    }


def settings_form(storage: Storage, store: dict, actor: str) -> None:
    """The store's time-to-greet rules: on or off, the standard, the waiting
    limit, the wait bands and the on-time goal. A store's own setting, like
    its PIN rule and language: any account that sees the store changes it
    (``ui.change`` checks that again at the tap). A refused value shows the
    rules' sentence and keeps everything typed."""
    state, sid = st.session_state, store["id"]
    place, keys = f"greet-{sid}", _keys(sid)
    st.subheader(_("Time to greet"))
    st.caption(
        _(
            'With time to greet on, the Log page shows a "Customer in" button: a tap notes a '
            "customer's arrival on every tablet of the store, and the next first engagement "
            "greets the longest-waiting one. The dashboard then shows how long customers wait "
            "and what the wait costs."
        )
    )
    ui.show_error(place)
    saved = settings.greet_rules(storage, sid)
    # What was typed stays in the form (a refused save loses nothing); a
    # fresh page starts from the store's rules.
    state.setdefault(keys["on"], saved.on)
    state.setdefault(keys["standard"], saved.standard)
    state.setdefault(keys["limit"], saved.limit)
    state.setdefault(keys["bands"], _edges_text(saved.bands))
    state.setdefault(keys["goal"], None if saved.goal is None else round(100 * saved.goal))
    with form(f"greet-form-{sid}"):
        st.toggle(_("Time to greet at this store"), key=keys["on"])
        st.selectbox(
            _("Standard: greeted within"),
            rules.STANDARDS,
            format_func=formats.wait,
            key=keys["standard"],
            help=_("30 s unless you change it."),
        )
        st.number_input(
            _("Waiting limit (minutes)"),
            step=1,
            key=keys["limit"],
            help=_(
                "An arrival nobody greeted or marked as left is closed as "
                '"left before greeting" after this many minutes.'
            ),
        )
        st.text_input(
            _("Wait bands after the standard (seconds)"),
            key=keys["bands"],
            max_chars=40,
            placeholder="120",
            help=_(
                'For example "120" (on time, up to 2 minutes, longer) or "60, 120": the '
                "dashboard compares conversion and units per sale band by band. Each edge is "
                "one of {choices} seconds."
            ).format(choices=", ".join(formats.number(e) for e in greet_sums.EDGES)),
        )
        st.number_input(
            _("On-time goal (%, optional)"),
            value=None,  # empty: no goal
            step=1,
            key=keys["goal"],
            placeholder=_("No goal"),
        )
        st.form_submit_button(
            _("Save time to greet"),
            key=f"greet-save-{sid}",
            type="primary",
            on_click=_save,
            args=(storage, sid, actor),
        )


def _edges_text(edges) -> str:
    return ", ".join(str(e) for e in edges)


def _save(storage: Storage, store_id: int, actor: str) -> None:
    state, keys, place = st.session_state, _keys(store_id), f"greet-{store_id}"

    def apply() -> None:
        goal = state[keys["goal"]]
        checked = rules.check(
            bool(state[keys["on"]]),
            state[keys["standard"]],
            state[keys["limit"]],
            rules.parse_edges(state[keys["bands"]] or ""),
            None if goal is None else goal / 100,
        )
        rules.save(storage, store_id, checked, actor=actor)
        state[keys["bands"]] = _edges_text(checked.bands)  # as stored: "60, 120"

    ui.change(storage, place, apply, _("Time to greet saved."), store_id=store_id)


# --- the dashboard's section -----------------------------------------------------


@st.cache_data(ttl=600, max_entries=48, show_spinner=False)
def _figures(
    path: str, version: tuple, spans: dict, selection, lang: str, _tallies: figures.Tallies
) -> Greeting | None:
    # Cached like the dashboard's build: by the data version (a change of
    # the rules writes an audit row too) and the language the band labels
    # are written in (``_tallies`` comes from that same build: not hashed).
    # None: no store of the selection has time to greet on.
    storage = open_storage(path)
    with words.using(lang):
        return figures.section(storage, spans, selection, _tallies)


def close_overdue(storage: Storage, store_ids: list[int]) -> int:
    """Customers still waiting past their store's limit, which no tablet's
    board read has closed (overnight, a store without tablets on), are
    closed as "left before greeting" before a page counts them (#30)."""
    return arrivals.close_overdue_in(storage, store_ids)


def load(storage: Storage, dash) -> Greeting | None:
    """The section's figures for the dashboard's selection: one build,
    cached; None (and nothing to draw) where no store has time to greet on."""
    return ui.attempt(
        PLACE,
        lambda: _figures(
            storage.address,
            dashboard.data_version(storage),
            dash.spans,
            dash.selection,
            words.current(),
            dash.greet_tallies(),
        ),
    )


def section(storage: Storage, dash) -> None:
    """The dashboard's "Time to greet": nothing at all unless a store of the
    selection has it on."""
    greet = load(storage, dash)
    ui.show_error(PLACE)
    if greet is None:
        return
    st.subheader(_("Time to greet"))
    totals = greet.totals
    if not totals.arrivals:
        st.info(
            _(
                'No visit in this period had an arrival tap yet: the Log page\'s "Customer in" '
                "button notes one when a customer comes in."
            ),
            icon=":material/timer:",
        )
        return
    st.markdown(band_sentence(greet.bands))
    for column, (label, value, delta, caption) in zip(st.columns(3), tiles(greet), strict=True):
        with column, st.container(border=True):
            st.metric(label, value, delta)
            st.caption(caption)
    st.caption(
        _("Only visits with an arrival tap count: {share} of this period's visits had one.").format(
            share=percent(greet.share.value, 0)
        )
    )
    st.table(band_table(greet.bands), hide_index=True, border="horizontal")
    if _rules_differ(greet):
        st.caption(
            _(
                "The stores' standards or bands differ: each store's waits count in its own "
                "bands, named here by the first store's."
            )
        )
    st.markdown(hours_sentence(greet.hours))
    st.plotly_chart(hours_chart(greet.hours), key="chart-greet-hours")
    people = associate_table(greet.associates)
    if len(people):
        st.table(people, hide_index=True, border="horizontal")
    if len(dash.spans) > 1:
        for line in greet.stores:
            st.markdown(store_line(line, greet.rules.get(line.key)))
    st.caption(
        _(
            "Time to greet: from the arrival tap to the first engagement, median and 90th "
            "percentile of the customers greeted. On time: greeted within the store's standard, "
            "of every customer with an arrival tap (one who left was not greeted on time), "
            "{ci} interval; per associate, of the customers each one greeted. Bands: conversion "
            "and units per sale of the customers greeted, by how long they waited; under {need} "
            'closed visits, "too few visits". Hour × weekday: the on-time rate in each store\'s '
            "local time; blank cells have fewer than {need} arrivals."
        ).format(ci=formats.confidence(), need=MIN_SAMPLE)
    )


def _signed_points(value: float) -> str:
    """A difference of shares in whole points with an ASCII sign: st.metric
    colours a delta red only when it starts with "-"."""
    points = round(100 * value)
    return ("-" if points < 0 else "+") + formats.number(abs(points))


def _few_arrivals(counts: GreetCounts) -> bool:
    return counts.arrivals < MIN_SAMPLE


def tiles(greet: Greeting) -> list[tuple[str, str, str | None, str]]:
    """(label, value, delta, caption) of the section's three tiles."""
    t = greet.totals
    rate = t.on_time_rate
    few = _few_arrivals(t)
    within = (
        _("within {wait}").format(wait=formats.wait(greet.standard))
        if greet.standard is not None
        else _("within each store's standard")
    )
    caption = _("{within} · n = {n} · {ci} {interval}").format(
        within=within, n=formats.number(rate.n), ci=formats.confidence(), interval=interval(rate)
    )
    if few:
        caption = _("{too_few} · {within} · n = {n}").format(
            too_few=_(TOO_FEW), within=within, n=formats.number(rate.n)
        )
    goal, delta = greet.goal, None
    if goal is not None:
        caption = _("{caption} · goal {goal}").format(caption=caption, goal=percent(goal, 0))
        if not few:
            delta = _("{points} pts vs goal").format(points=_signed_points(rate.value - goal))
    median = (
        _("90th percentile {p90} · n = {n} greeted").format(
            p90=formats.wait(greet.p90), n=formats.number(t.greeted)
        )
        if greet.median is not None
        else _("nobody greeted after an arrival tap yet")
    )
    return [
        (
            _("Time to greet (median)"),
            "—" if greet.median is None else formats.wait(greet.median),
            None,
            median,
        ),
        (_("Greeted on time"), "—" if few else percent(rate.value), delta, caption),
        (
            _("Left before greeting"),
            formats.number(t.left_before),
            None,
            _("of {n} customers with an arrival tap").format(n=formats.number(t.arrivals)),
        ),
    ]


def _conversion(counts: GreetCounts) -> str:
    c = counts.counts
    if c.too_few:
        return _(TOO_FEW)
    return f"{percent(c.conversion.value)} ({interval(c.conversion)})"


def band_table(bands: list[Band]) -> pd.DataFrame:
    """A row per wait band: customers greeted, conversion with its interval,
    closed visits, units per sale; "too few visits" under the minimum."""
    body = [
        [
            b.label,
            formats.number(b.counts.arrivals),
            _conversion(b.counts),
            formats.number(b.counts.closed),
            "—"
            if b.counts.counts.too_few or not b.counts.purchased
            else ups(b.counts.counts.units_per_sale),
        ]
        for b in bands
    ]
    return pd.DataFrame(body, columns=[_(c).format(ci=formats.confidence()) for c in BAND_COLUMNS])


def _waited(band: Band) -> str:
    """The customers of a band, as the object of a comparison."""
    if band.high is None:
        return _("those who waited over {wait}").format(wait=formats.wait(band.low - 1))
    return _("those who waited {low} to {high}").format(
        low=formats.wait(band.low), high=formats.wait(band.high)
    )


def band_sentence(bands: list[Band]) -> str:
    """On time against the longest band with enough closed visits (the
    longest band when none has), in the dashboard's words: points, units
    per sale, and "could still be chance" when the intervals overlap."""
    on_time, later = bands[0], bands[1:]
    enough = [b for b in later if not b.counts.counts.too_few]
    other = enough[-1] if enough else later[-1]
    return takeaways.compare(
        on_time.counts.counts,
        other.counts.counts,
        _("Customers greeted on time"),
        _waited(other),
        _(
            "Too few visits to compare customers greeted on time with {other} yet: "
            "{a} vs {b} closed visits ({need} each needed)."
        ),
        other=_waited(other),
    )


def _cells(hours: dict[tuple[int, int], GreetCounts]) -> tuple[np.ndarray, list[int], list]:
    busy = sorted({h for (_day, h), c in hours.items() if c.arrivals})
    span = list(range(busy[0], busy[-1] + 1)) if busy else list(range(9, 18))
    grid = np.full((7, len(span)), np.nan)
    text = [["" for _hour in span] for _day in range(7)]
    for (day, hour), c in hours.items():
        if hour not in span or not c.arrivals:
            continue
        col = span.index(hour)
        rate = c.on_time_rate
        if _few_arrivals(c):
            text[day][col] = f"{_(TOO_FEW)} ({formats.number(c.arrivals)})"
        else:
            grid[day, col] = 100 * rate.value
            text[day][col] = _("{rate} on time of {n}").format(
                rate=percent(rate.value), n=formats.number(rate.n)
            )
    return grid, span, text


def hours_chart(hours: dict[tuple[int, int], GreetCounts]):
    """The on-time rate per weekday and local hour (the dashboard's heat map)."""
    grid, span, text = _cells(hours)
    return charts.week_hours(grid, span, text, colorscale="RdYlGn", suffix="%", zmin=0, zmax=100)


def hours_sentence(hours: dict[tuple[int, int], GreetCounts]) -> str:
    """Where waits are longest: the hour and weekday with the lowest on-time
    rate among those with enough arrivals."""
    enough = [(key, c) for key, c in hours.items() if not _few_arrivals(c)]
    if not enough:
        return _(
            "Too few arrivals per hour yet to say when waits are long ({need} per hour and "
            "weekday)."
        ).format(need=MIN_SAMPLE)
    (day, hour), c = min(enough, key=lambda kc: (kc[1].on_time_rate.value, kc[0]))
    return _(
        "Longest waits: {weekday} {start}–{end}, {rate} greeted on time of {n} customers."
    ).format(
        weekday=formats.weekday(day),
        start=f"{hour:02d}:00",
        end=f"{hour + 1:02d}:00",
        rate=percent(c.on_time_rate.value, 0),
        n=formats.number(c.arrivals),
    )


def associate_table(lines: list[figures.Line]) -> pd.DataFrame:
    """Those who greeted: how many, and the share of their greetings within
    the standard (a customer who left was nobody's greeting)."""
    body = []
    for line in sorted(lines, key=lambda ln: (-ln.counts.greeted, ln.name)):
        c = line.counts
        if not c.greeted:
            continue
        rate = Rate(c.on_time, c.greeted)
        body.append(
            [
                plain(line.name),
                formats.number(c.greeted),
                _(TOO_FEW)
                if c.greeted < MIN_SAMPLE
                else f"{percent(rate.value)} ({interval(rate)})",
            ]
        )
    columns = [_(c).format(ci=formats.confidence()) for c in ASSOCIATE_COLUMNS]
    return pd.DataFrame(body, columns=columns)


def store_line(line: figures.Line, store_rules: settings.GreetRules | None) -> str:
    """One store's figures in a line (a selection of several stores)."""
    name = plain(line.name)
    c = line.counts
    if not c.arrivals:
        if store_rules is None or not store_rules.on:
            return _("**{store}**: time to greet is off.").format(store=name)
        return _("**{store}**: no arrival taps in this period.").format(store=name)
    rate = c.on_time_rate
    return _(
        "**{store}**: on time {rate}, n = {n}; median {median}; left before greeting {left}; "
        "arrival taps on {share} of visits."
    ).format(
        store=name,
        rate=_(TOO_FEW) if _few_arrivals(c) else f"{percent(rate.value)} ({interval(rate)})",
        n=formats.number(rate.n),
        median="—" if line.median is None else formats.wait(line.median),
        left=formats.number(c.left_before),
        share=percent(Rate(c.arrivals, line.visits).value, 0) if line.visits else "—",
    )


def _rules_differ(greet: Greeting) -> bool:
    return len({(r.standard, r.bands) for r in greet.in_use}) > 1
