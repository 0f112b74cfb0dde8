// The Log page's tap pad (issue #10): data in, taps out.
//
// The page passes the pad its data (who is signed in, the reason lists and the
// board of visits). Every tap goes first into an outbox in localStorage with
// a random tap id, the visit id and the device's clock time, shows at once as
// *waiting*, and turns *saved* only when the server acknowledged it
// (POST /api/v1/taps). The outbox is sent on load, every few seconds while it
// holds taps, on "online" and when the tab comes back; it survives a reload
// and a closed tab, and loses a tap only when the server answered it.
//
// The pad does not use Streamlit's websocket at all: when that drops,
// Streamlit greys the page out and makes it inert; on the Log page the pad
// undoes that for itself (keepUsable) so the associate keeps logging.
//
// Adding a kind of tap: one entry in EFFECTS (what it does to the card on the
// device until the server answers), a button that calls tap(kind, visit,
// fields), and the same kind in cxlog/visits/taps.py (KINDS and _apply).

const OUTBOX_KEY = "cxlog.outbox.v1";
const RESEND_MS = 2000;
const POLL_MS = 5000;
const BATCH = 100;
const UNDO_MS = 30000;
const TIMEOUT_MS = 5000;
// How long a sent tap may wait for its answer before its card is drawn
// *waiting* (see tap): under two display frames, too short to see.
const WAITING_DRAW_MS = 30;
// Issue #24: two touches closer in time than this, on the same button or at
// about the same point of the screen, are one double tap. Android's
// double-tap timeout is 300 ms and Windows' double-click time 500 ms; a
// hurried second touch on a phone lands 150-450 ms after the first. The
// server refuses a second start from one device within the same window
// (DOUBLE_TAP in cxlog/visits/taps.py; a browser test compares the two).
export const DOUBLE_TAP_MS = 500;
// "About the same point": a finger's second touch lands within a few px of
// the first, while the centres of two neighbouring 48 px targets are more
// than 50 px apart. The point matters because the first touch may change
// what lies under the finger (a closed card is shorter than an open one).
export const DOUBLE_TAP_SLOP_PX = 24;
// The key (tapKey) of "Customer in": a second touch of it within
// DOUBLE_TAP_MS is a double tap, as for the engagement buttons (issue #30).
export const CUSTOMER_IN = "|data-act=customer-in";
// How long the pad says that a second touch was taken as a double tap.
const HINT_MS = 4000;
const ENGAGEMENTS = ["warm", "neutral", "missed"];
const MARKERS = ["used_name", "recommended"];
// Taps that start a visit under their own `visit` id (cxlog/visits/taps.py STARTS).
const STARTS = ["start", "left"];
// Issue #30: the taps that change who waits; a refusal of one is said under
// the waiting customers (they have no card).
const GREET_KINDS = ["arrival", "arrival_undo", "left"];
// At most this many waiting customers are listed at once (a phone's screen).
const WAITING_SHOWN = 3;

// --- words (issue #29): the page hands the pad its words in the page's
// language (cxlog/web/pad_words.py); the pad fills their {placeholders}. ----

let W = { lang: "en", text: {}, counted: {} };

function fill(template, vars) {
  return template.replace(/\{(\w+)\}/g, (all, name) => (name in vars ? String(vars[name]) : all));
}

// A sentence of the words' language, its {placeholders} filled.
export function say(w, key, vars = {}) {
  return fill(w.text[key] === undefined ? key : w.text[key], vars);
}

// A counted sentence: the language's form for n (Intl.PluralRules picks the
// CLDR category the server gave the words for), n written the language's way.
export function sayCount(w, key, n, vars = {}) {
  const forms = w.counted[key] || {};
  let category = "other";
  try {
    category = new Intl.PluralRules(w.lang).select(n);
  } catch (e) {
    category = n === 1 ? "one" : "other";
  }
  const template = forms[category] || forms.other || key;
  return fill(template, { ...vars, n: number(w, n) });
}

function number(w, n) {
  try {
    return new Intl.NumberFormat(w.lang).format(n);
  } catch (e) {
    return String(n);
  }
}

const t = (key, vars) => say(W, key, vars);
const tn = (key, n, vars) => sayCount(W, key, n, vars);

// --- pure functions: no DOM, no network (driven by the browser tests) -------

export function readOutbox(store) {
  try {
    const value = JSON.parse(store.getItem(OUTBOX_KEY) || "[]");
    return Array.isArray(value) ? value.filter((t) => t && typeof t.id === "string") : [];
  } catch (e) {
    return [];
  }
}

// The next batch: the oldest taps first, so a visit's start always goes
// before (or with) the taps that follow it.
export function nextBatch(outbox, max = BATCH) {
  return outbox.slice(0, max);
}

// Only taps the server answered leave the outbox (saved, or refused with a
// sentence); everything else stays to be sent again.
export function withoutAnswered(outbox, answers) {
  const answered = new Set(answers.map((a) => a.id));
  return outbox.filter((t) => !answered.has(t.id));
}

// Whether to send now: something waiting, nothing in flight, not stopped by a
// refusal that another try cannot fix, and the retry time has come.
export function shouldSend(s, now) {
  return s.outbox.length > 0 && !s.inFlight && !s.stopped && now >= s.nextTry;
}

// After a failed send: every few seconds, a little later after many failures.
export function retryDelay(failures) {
  return Math.min(RESEND_MS * Math.max(1, failures), 3 * RESEND_MS);
}

// What a waiting tap does to its visit on the device, until the server's own
// state of the visit replaces it.
export const EFFECTS = {
  start: (v, t, me) => ({
    id: t.visit,
    engagement: t.engagement,
    started: new Date(t.at).toISOString(),
    by: me ? me.name : "",
    reason: null,
    used_name: false,
    recommended: false,
    outcome: null,
    units: null,
    cents: null,
    no_sale: null,
    closed_by: null,
    voided: false,
  }),
  reason: (v, t) => ({ ...v, reason: t.reason }),
  marker: (v, t) => ({ ...v, [t.marker]: t.on }),
  purchase: (v, t) => ({ ...v, outcome: "purchased", units: t.units, no_sale: null }),
  no_purchase: (v) => ({ ...v, outcome: "no_purchase", units: null, cents: null }),
  no_sale_reason: (v, t) => ({ ...v, no_sale: t.reason }),
  // The server makes cents of the amount as typed; the device shows the text.
  amount: (v, t) => ({ ...v, amount_typed: t.amount }),
  reopen: (v) => ({ ...v, outcome: null, units: null, cents: null, no_sale: null }),
  // Issue #30: "Left before greeting" starts and closes a missed visit with
  // no purchase at once.
  left: (v, t, me) => ({ ...EFFECTS.start(v, { ...t, engagement: "missed" }, me), outcome: "no_purchase", closed_by: me ? me.name : null, left: true }),
  // Undo takes back this device's last tap on the visit; its exact effect is
  // the server's to decide, so the device shows the likely one meanwhile.
  undo: (v, t, me, before) => before || v,
};

// The visits as the device should show them: the server's state with every
// waiting tap applied on top, in tap order.
export function overlay(visits, outbox, me) {
  const shown = new Map(Object.entries(visits).map(([id, v]) => [id, v]));
  const history = new Map(); // visit id -> states before each waiting tap
  for (const t of outbox) {
    const effect = EFFECTS[t.kind];
    const current = shown.get(t.visit);
    if (!effect || (!current && !STARTS.includes(t.kind))) continue;
    const past = history.get(t.visit) || [];
    let next;
    if (t.kind === "undo") {
      const before = past.pop();
      // Undoing a start (or a "left", which is its own close) voids the visit.
      next = before
        ? before
        : current.outcome && !current.left
          ? EFFECTS.reopen(current)
          : { ...current, voided: true };
    } else {
      past.push(current);
      next = effect(current, t, me);
    }
    history.set(t.visit, past);
    shown.set(t.visit, { ...next, waiting: true });
  }
  return shown;
}

// Whether a touch is the second touch of a double tap (DOUBLE_TAP_MS): the
// same button (key), or about the same point when both touches had one
// (x and y; a click from a keyboard or a script has none).
export function isRepeat(prev, next, windowMs = DOUBLE_TAP_MS, slop = DOUBLE_TAP_SLOP_PX) {
  if (!prev || next.at < prev.at || next.at - prev.at >= windowMs) return false;
  if (next.key === prev.key) return true;
  const placed = (t) => typeof t.x === "number" && typeof t.y === "number";
  return placed(prev) && placed(next) && Math.hypot(next.x - prev.x, next.y - prev.y) <= slop;
}

// What a button does, as a short key: the visit of its card and its data-*
// choice. Two touches of the same key are the same choice.
export function tapKey(button) {
  const holder = button.closest("[data-visit]");
  const parts = [holder ? holder.getAttribute("data-visit") : ""];
  for (const name of ["data-start", "data-tap", "data-value", "data-act", "data-associate", "data-due"]) {
    if (button.hasAttribute(name)) parts.push(`${name}=${button.getAttribute(name)}`);
  }
  return parts.join("|");
}

export function countWaiting(outbox) {
  return outbox.length;
}

// --- time to greet (issue #30): pure functions, driven by the browser test ---
// Only when the board carries `greet` (the store has it on). A waiting
// customer is {id, at, by}: `at` in ms of the server's clock (the device's
// own taps moved by the clock offset the server applies, if any), so the
// board's arrivals and this device's unsent ones sort and time alike.

// The waiting customers after some taps of this device, in tap order:
// `arrival` adds one, `arrival_undo` and `left` take theirs away, a start
// that greets takes the arrival it names if it still waits, else the
// longest-waiting one that arrived before it (the server's rule,
// cxlog/visits/waiting.py take). Returns the list, longest-waiting first, and
// which arrival each greeting start took ({tap id: arrival id}).
export function waitingAfter(list, taps, me, offset = 0) {
  let shown = [...list];
  const took = {};
  const order = (a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  for (const t of taps) {
    if (t.kind === "arrival") {
      if (!shown.some((w) => w.id === t.visit)) shown = [...shown, { id: t.visit, at: t.at + offset, by: me ? me.name : "" }].sort(order);
    } else if (t.kind === "arrival_undo") {
      shown = shown.filter((w) => w.id !== t.visit);
    } else if (t.kind === "left") {
      shown = shown.filter((w) => w.id !== t.arrival);
    } else if (t.kind === "start" && "arrival" in t) {
      const named = shown.find((w) => w.id === t.arrival);
      const taken = named || shown.find((w) => w.at <= t.at + offset);
      if (taken) {
        took[t.id] = taken.id;
        shown = shown.filter((w) => w !== taken);
      }
    }
  }
  return { list: shown, took };
}

// Which waiting customer the next Warm / Neutral / Missed greets: the one
// tapped (while it still waits), else the longest-waiting one; null when
// nobody waits.
export function greetTarget(waiting, picked) {
  const chosen = waiting.find((w) => w.id === picked) || waiting[0];
  return chosen ? chosen.id : null;
}

// A start tap's fields. With time to greet off exactly as before #30 (no
// `arrival` key: the server then greets nobody); on, the customer tapped, or
// null for the longest-waiting one (the server picks it, so a customer
// greeted meanwhile on another tablet is not greeted twice).
export function startFields(engagement, greetOn, waiting, picked) {
  if (!greetOn) return { engagement };
  return { engagement, arrival: waiting.some((w) => w.id === picked) ? picked : null };
}

// Whole seconds a customer has waited (never below 0: clocks differ a little).
export function waitSeconds(at, now) {
  return Math.max(0, Math.floor((now - at) / 1000));
}

// The running timer: m:ss.
export function waitClock(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

// Past the store's standard, the timer takes the warning colour.
export function isLate(seconds, standard) {
  return seconds > standard;
}

// A visit's seconds to greet as the store reads them: "45 s", "2 min",
// "2 min 30 s" (cxlog/language/formats.py wait, the same words).
export function waitText(seconds, w = W) {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (!minutes) return say(w, "wait_s", { n: number(w, rest) });
  if (!rest) return say(w, "wait_min", { n: number(w, minutes) });
  return say(w, "wait_min_s", { m: number(w, minutes), s: number(w, rest) });
}

// A name inside a sentence is isolated (FSI … PDI): a right-to-left override
// in a name cannot turn the rest of the line around.
function iso(text) {
  return `\u2068${text || ""}\u2069`;
}

export function closeText(v, w = W) {
  if (v.left) return say(w, "left_no_purchase");
  if (v.outcome === "purchased") return say(w, "purchase_units", { units: sayCount(w, "units", v.units) });
  if (v.outcome === "no_purchase") return say(w, "no_purchase_lower");
  return "";
}

// The channel of the last promise, kept on the device for the next one; a
// stored value that is not a channel falls back to the default.
export const CHANNEL_KEY = "cxlog.followup-channel.v1";
export function rememberedChannel(store, choices) {
  let kept = null;
  try {
    kept = store.getItem(CHANNEL_KEY);
  } catch (e) {
    kept = null;
  }
  return choices.channels.some((c) => c.id === kept) ? kept : choices.default_channel;
}

// What the associate writes on the receipt once the promise is saved.
export function promiseText(made, channels, w = W) {
  const channel = (channels.find((c) => c.id === made.channel) || { name: made.channel }).name;
  // English as cxlog always wrote it ("Tue 3 Nov"); other languages their own way.
  const locale = w.lang === "en" ? "en-GB" : w.lang;
  const day = new Date(`${made.due_on}T12:00:00Z`).toLocaleDateString(locale, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  return say(w, "promise", { channel: channel.toLocaleLowerCase(w.lang), day, code: made.code });
}

// The pad's own bar: saved, waiting, or cannot reach the server.
export function barText(s, w = W) {
  const n = countWaiting(s.outbox);
  if (s.stopped) return s.stopped;
  // Short: the bar stays on screen at the bottom (two lines at most on a phone).
  if (s.offline && n) return sayCount(w, "offline_waiting", n);
  if (s.offline) return say(w, "offline");
  if (n) return sayCount(w, "saving", n);
  return say(w, "all_saved");
}

// --- the device: outbox, sending, board refresh ------------------------------

const pad = {
  data: null,
  outbox: [],
  visits: {}, // visit id -> the server's latest state
  today: [], // ids of today's closed visits, newest first
  todayCount: 0,
  openCount: 0,
  version: null,
  notes: {}, // visit id -> a sentence from the server about a refused tap
  lastTouch: null, // {at, key, x?, y?} of the last touch acted on (isRepeat)
  hint: null, // {text, until}: a double tap taken as one, said under the start row
  reasonOpen: {}, // visit id -> true when its chosen reason shows every choice again
  todayMore: {}, // visit id -> true when its Today row shows its actions
  recent: {}, // visit id -> device time of this device's last tap on it
  lastKind: {}, // visit id -> the kind of that tap
  stepper: {}, // visit id -> units shown in the 5+ stepper
  amountOpen: {}, // visit id -> true when the sale-amount field shows
  follow: {}, // visit id -> {open, dateOpen, busy, made, note}: the "Follow-up" choices (#15)
  back: {}, // visit id -> {open, busy, linked, note}: "Came back" with a visit code (#15)
  // Issue #30, time to greet (only while the board carries `greet`):
  greet: null, // {standard, limit} seconds / minutes, or null: the pad as before #30
  waiting: [], // the board's waiting customers, {id, at (server ms), by}
  settled: [], // {tap, ackAt}: greet taps saved since the board was read (see settle)
  pick: null, // the waiting customer tapped to be greeted next, or null: the longest-waiting
  waitingAll: false, // every waiting customer listed, not only WAITING_SHOWN
  greetNote: null, // {text, until}: a refused arrival, left or its undo, said under the list
  clockOffset: 0, // the server's clock minus this device's (ms) when the server corrected it
  pin: null, // associate id whose PIN is being asked
  whoError: null,
  inFlight: false,
  stopped: null,
  offline: false,
  failures: 0,
  nextTry: 0,
  root: null,
  timers: [],
  cardSigs: new Map(), // visit id -> what its live card was drawn from
};

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function saveOutbox() {
  localStorage.setItem(OUTBOX_KEY, JSON.stringify(pad.outbox));
}

function tap(kind, visit, fields = {}) {
  if (pad.stopped) return;
  const t = { id: newId(), visit, kind, at: Date.now(), by: pad.data.me.id, ...fields };
  pad.outbox = [...readOutbox(localStorage), t];
  saveOutbox(); // on the device before anything is shown
  pad.recent[visit] = t.at;
  pad.lastKind[visit] = kind;
  delete pad.notes[visit];
  // Send first, then draw: drawing first held the send back by ~3 ms on a
  // phone-sized page. *Waiting* is drawn when the answer is not back within
  // WAITING_DRAW_MS: an answer in time draws the card *saved* in one frame,
  // where waiting-then-saved took two, and the second waited for the next
  // display refresh (~16 ms). The tap is on the device already (above).
  const sending = shouldSend(pad, Date.now()) && pad.data.mode === "log";
  flush();
  if (sending) {
    clearTimeout(pad.waitingTimer);
    pad.waitingTimer = setTimeout(render, WAITING_DRAW_MS);
  } else {
    render();
  }
}

async function api(method, path, body) {
  const options = {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
  if (typeof AbortSignal !== "undefined" && AbortSignal.timeout) options.signal = AbortSignal.timeout(TIMEOUT_MS);
  const response = await fetch(`${pad.data.api}${path}`, options);
  let answer = {};
  try {
    answer = await response.json();
  } catch (e) {
    answer = {};
  }
  return { status: response.status, answer };
}

function reachable(ok) {
  pad.offline = !ok;
  if (ok) pad.failures = 0;
}

async function flush() {
  pad.outbox = readOutbox(localStorage);
  if (!pad.data || pad.data.mode !== "log" || !shouldSend(pad, Date.now())) {
    render();
    return;
  }
  const batch = nextBatch(pad.outbox);
  pad.inFlight = true;
  try {
    const { status, answer } = await api("POST", "/taps", { sent_at: Date.now(), taps: batch });
    if (status === 200) {
      reachable(true);
      pad.clockOffset = answer.clock_offset_ms || 0;
      settle(batch, answer.taps);
      for (const a of answer.taps) {
        if (a.ok || !a.message) continue;
        const sent = batch.find((t) => t.id === a.id);
        if (GREET_KINDS.includes(sent.kind)) pad.greetNote = { text: a.message, until: Date.now() + 2 * HINT_MS };
        else pad.notes[sent.visit] = a.message;
      }
      Object.assign(pad.visits, answer.visits);
      for (const v of Object.values(answer.visits)) if (v.outcome && !pad.today.includes(v.id)) pad.today.unshift(v.id);
      pad.outbox = withoutAnswered(readOutbox(localStorage), answer.taps);
      saveOutbox();
      pad.nextTry = 0;
      setTimeout(refresh, 0); // other devices' changes too
    } else if (status >= 500) {
      failed();
    } else {
      // A refusal another try cannot fix (shift ended, bad batch): say it in
      // the bar; the taps stay on the device, never silently dropped.
      reachable(true);
      pad.stopped = answer.error || t("refused", { status });
    }
  } catch (e) {
    console.warn("cxlog pad: sending taps failed:", e && e.message);
    failed();
  } finally {
    pad.inFlight = false;
  }
  render();
  if (pad.outbox.length && !pad.stopped && !pad.offline) flush();
}

// Issue #30: the greet taps the server just saved keep changing who waits
// until a board read asked for after their answer shows it (the answer to a
// tap carries no board): without this a customer noted here would vanish
// from the list until the next read, and one greeted would come back. A
// greeting is kept as the arrival it took, so applying it again to a board
// that already shows it changes nothing.
function settle(batch, answers) {
  if (!pad.greet) return;
  const ok = new Set(answers.filter((a) => a.ok).map((a) => a.id));
  const before = waitingAfter(pad.waiting, pad.settled.map((s) => s.tap), pad.data.me, pad.clockOffset).list;
  const { took } = waitingAfter(before, readOutbox(localStorage), pad.data.me, pad.clockOffset);
  const ackAt = Date.now();
  for (const t of batch) {
    if (!ok.has(t.id)) continue;
    if (GREET_KINDS.includes(t.kind)) pad.settled.push({ tap: t, ackAt });
    // Kept as a "left" of the arrival it took: it takes that one or none.
    else if (t.kind === "start" && took[t.id]) pad.settled.push({ tap: { kind: "left", arrival: took[t.id] }, ackAt });
  }
}

// The waiting customers the pad shows: the board's, with this device's taps
// saved since (settle) and those still in the outbox applied.
function shownWaiting() {
  if (!pad.greet) return [];
  const me = pad.data.me;
  const saved = waitingAfter(pad.waiting, pad.settled.map((s) => s.tap), me, pad.clockOffset).list;
  return waitingAfter(saved, pad.outbox, me, pad.clockOffset).list;
}

function failed() {
  pad.failures += 1;
  pad.offline = true;
  pad.nextTry = Date.now() + retryDelay(pad.failures);
}

function useBoard(board) {
  const keep = {};
  for (const [id, v] of Object.entries(pad.visits)) if (pad.recent[id] || pad.notes[id]) keep[id] = v;
  pad.visits = keep;
  for (const v of [...board.open, ...board.today]) pad.visits[v.id] = v;
  pad.today = board.today.map((v) => v.id);
  pad.todayCount = board.today_count;
  pad.openCount = board.open_count;
  pad.teamLine = board.team_line || null;
  pad.version = board.version;
  // Issue #30: present only while the store has time to greet on.
  pad.greet = board.greet || null;
  pad.waiting = (board.waiting || []).map((w) => ({ id: w.id, at: Date.parse(w.at), by: w.by }));
  if (!pad.greet) {
    pad.settled = [];
    pad.pick = null;
  }
  followLanguage(board);
}

// Issue #29: a change of the store's language reaches the pad with the
// board; the page then draws itself again in it (a Streamlit rerun through
// the pad's "language" trigger, no reload). A device's own choice stays.
export function wantedLanguage(data, board) {
  if (!data || data.lang_source === "device" || !board || !("lang" in board)) return null;
  return board.lang || data.browser_lang || null;
}

function followLanguage(board) {
  if (board && "lang" in board) pad.boardLang = board.lang; // what the server last said
  const wanted = wantedLanguage(pad.data, board);
  if (!wanted || wanted === W.lang || pad.askedLanguage === wanted || !pad.rerun) return;
  pad.askedLanguage = wanted;
  pad.rerun("language", wanted);
}

async function refresh() {
  // One read at a time, and never while taps are being sent: on a slow
  // server, reads piling up took every connection the browser allows to a
  // host and held a tap back (seen in the benchmark).
  if (!pad.data || pad.data.mode !== "log" || document.hidden || pad.refreshing || pad.inFlight) return;
  pad.refreshing = true;
  const askedAt = Date.now();
  try {
    const { status, answer } = await api("GET", `/open-visits?since=${encodeURIComponent(pad.version || "")}`);
    if (status === 200) {
      reachable(true);
      // Changed or not, this answer shows every greet tap saved before it was asked for.
      pad.settled = pad.settled.filter((s) => s.ackAt > askedAt);
      // The store's language comes with every answer, changed board or not.
      followLanguage(answer);
      if (answer.changed) useBoard(answer);
      else if (typing()) return;
    } else if (status === 401) {
      pad.stopped = answer.error;
    } else {
      reachable(false);
    }
  } catch (e) {
    reachable(false);
  } finally {
    pad.refreshing = false;
  }
  render();
  flush();
}

// --- Streamlit's connection UI on the Log page --------------------------------

// About 3 s into a real network cut Streamlit opens its "Connection error"
// dialog and sets `inert` on the app's containers, so nothing can be tapped.
// The pad needs no websocket: hide that dialog and clear `inert` on the pad's
// ancestors, only while the pad is on the page. These are Streamlit internals
// (data-testid, inert); tests/e2e/test_log_browser.py fails if they change.
function keepUsable(root) {
  const style = document.createElement("style");
  style.dataset.cxPad = "connection";
  style.textContent = '[data-testid="stDialog"] { display: none !important; }';
  document.head.appendChild(style);
  const clear = () => {
    for (let el = root; el; el = el.parentElement || (el.getRootNode && el.getRootNode().host)) {
      if (el.hasAttribute && el.hasAttribute("inert")) {
        el.removeAttribute("inert");
        el.inert = false;
        const html = document.documentElement;
        html.dataset.cxInertCleared = String(Number(html.dataset.cxInertCleared || 0) + 1);
      }
    }
  };
  const watcher = new MutationObserver(clear);
  watcher.observe(document.body, { subtree: true, attributes: true, attributeFilter: ["inert"] });
  clear();
  return () => {
    watcher.disconnect();
    style.remove();
  };
}

// During a cut Streamlit's (hidden) connection dialog also stops every click
// and focus outside itself, in the capture phase on the document. The pad
// therefore takes its own clicks one step earlier, on the window.
const actions = new WeakMap(); // button -> what a tap on it does

function ownClick(event) {
  const target = event.target instanceof Element ? event.target.closest("button") : null;
  if (!target || !pad.root || !pad.root.contains(target) || !actions.has(target)) return;
  event.stopPropagation();
  // A double tap acts once (issue #24). Buttons meant to be tapped in quick
  // succession (the units stepper's - and +) are marked data-repeat.
  if (!target.hasAttribute("data-repeat")) {
    // detail is 0 for a click from a keyboard or a script: no point to compare.
    const touch = { at: Date.now(), key: tapKey(target), ...(event.detail > 0 ? { x: event.clientX, y: event.clientY } : {}) };
    if (isRepeat(pad.lastTouch, touch)) {
      event.preventDefault();
      if (target.hasAttribute("data-start") || (pad.lastTouch.key || "").includes("data-start")) {
        pad.hint = { text: t("double_tap"), until: touch.at + HINT_MS };
        render();
      } else if ([touch.key, pad.lastTouch.key].includes(CUSTOMER_IN)) {
        pad.hint = { text: t("double_arrival"), until: touch.at + HINT_MS };
        render();
      }
      return;
    }
    pad.lastTouch = touch;
  }
  actions.get(target)(event);
}

function ownFocus(event) {
  if (pad.root && event.target instanceof Node && pad.root.contains(event.target)) event.stopPropagation();
}

// --- drawing -----------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "onclick") actions.set(node, v);
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node; // text goes in through append(string): never parsed as HTML
}

function button(label, attrs, onclick) {
  return el("button", { type: "button", class: "cx-btn", ...attrs, onclick }, label);
}

function elapsed(started) {
  const minutes = Math.floor((Date.now() - Date.parse(started)) / 60000);
  return minutes < 1 ? t("just_now") : tn("minutes_ago", minutes);
}

// One formatter per time zone: making one costs more than formatting, and
// Today can list a hundred visits.
const clocks = new Map();

function localTime(stamp) {
  try {
    const zone = pad.data.timezone;
    if (!clocks.has(zone)) clocks.set(zone, new Intl.DateTimeFormat(W.lang === "en" ? "en-GB" : W.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone }));
    return clocks.get(zone).format(new Date(stamp));
  } catch (e) {
    return new Date(stamp).toISOString().slice(11, 16);
  }
}

function nameOf(list, id) {
  const found = list.find((r) => r.id === id);
  return found ? found.name : null;
}

function whoView() {
  const d = pad.data;
  const box = el("div", { class: "cx-who" }, el("h1", {}, t("who")));
  if (pad.whoError) box.append(el("p", { class: "cx-note", role: "alert" }, pad.whoError));
  if (pad.pin !== null) {
    const person = d.people.find((p) => p.id === pad.pin);
    const input = el("input", { type: "password", inputmode: "numeric", maxlength: 8, autocomplete: "off", class: "cx-pin", "aria-label": t("pin") });
    const send = () => signIn(pad.pin, input.value);
    input.addEventListener("keydown", (e) => e.key === "Enter" && send());
    box.append(
      el("h2", {}, t("pin_for", { name: iso(person ? person.name : "") })),
      input,
      el("div", { class: "cx-row" }, button(t("sign_in"), { class: "cx-btn cx-primary", "data-act": "pin-ok" }, send), button(t("back"), { "data-act": "pin-back" }, () => { pad.pin = null; pad.whoError = null; render(); })),
    );
    return box;
  }
  box.append(el("p", { class: "cx-caption" }, t("tap_name")));
  box.append(
    el("div", { class: "cx-row cx-names" }, d.people.map((p) => button(p.name, { "data-associate": p.id }, () => (d.pin_required ? ((pad.pin = p.id), (pad.whoError = null), render()) : signIn(p.id, null))))),
  );
  return box;
}

async function signIn(associateId, pin) {
  try {
    const body = pin === null ? { associate_id: associateId } : { associate_id: associateId, pin };
    const { status, answer } = await api("POST", "/shifts", body);
    if (status === 200) {
      // The shift cookie reaches Streamlit only with the next page load.
      location.reload();
      return;
    }
    pad.whoError = answer.error || t("sign_in_failed", { status });
  } catch (e) {
    pad.whoError = t("unreachable");
  }
  render();
}

async function notYou() {
  await flush();
  if (pad.outbox.length) {
    pad.stopped = null;
    pad.notYouNote = tn("still_waiting", pad.outbox.length);
    render();
    return;
  }
  try {
    await api("DELETE", "/shifts");
    location.reload();
  } catch (e) {
    pad.notYouNote = t("unreachable");
    render();
  }
}

function startRow() {
  return el(
    "div",
    { class: "cx-row cx-start" },
    ENGAGEMENTS.map((e) =>
      button(t(e), { class: `cx-btn cx-start-btn ${e === "warm" ? "cx-primary" : ""}`, "data-start": e }, () => {
        const fields = startFields(e, !!pad.greet, shownWaiting(), pad.pick);
        pad.pick = null;
        tap("start", newId(), fields);
      }),
    ),
  );
}

// Issue #30: "Customer in" and the customers waiting for their first moment,
// under the start row (the engagement buttons stay where they were): the one
// the next start greets is marked; a tap on another picks it instead.
function greetView(now) {
  const note = pad.greetNote && now < pad.greetNote.until ? pad.greetNote.text : null;
  // Turned off while a tap of it was on its way: only the server's sentence.
  if (!pad.greet) return note ? el("p", { class: "cx-note", role: "alert" }, note) : null;
  const waiting = shownWaiting();
  const target = greetTarget(waiting, pad.pick);
  let rows = pad.waitingAll ? waiting : waiting.slice(0, WAITING_SHOWN);
  // The one picked stays in sight when the list is cut.
  if (target && !rows.some((w) => w.id === target)) rows = [...rows.slice(0, WAITING_SHOWN - 1), waiting.find((w) => w.id === target)];
  const hidden = waiting.length - rows.length;
  const unsent = new Set(pad.outbox.filter((x) => x.kind === "arrival").map((x) => x.visit));
  const toggle = (all) => () => { pad.waitingAll = all; render(); };
  return el(
    "div",
    { class: "cx-greet", role: "group", "aria-label": tn("waiting_customers", waiting.length) },
    button(t("customer_in"), { class: "cx-btn cx-customer-in", "data-act": "customer-in" }, () => {
      pad.greetNote = null;
      tap("arrival", newId());
    }),
    rows.map((w) => waitRow(w, w.id === target, unsent.has(w.id), now)),
    hidden > 0 ? button(tn("more_waiting", hidden), { class: "cx-btn cx-wait-more", "data-act": "waiting-all" }, toggle(true)) : null,
    pad.waitingAll && waiting.length > WAITING_SHOWN ? button(t("fewer_waiting"), { class: "cx-btn cx-wait-more", "data-act": "waiting-fewer" }, toggle(false)) : null,
    note ? el("p", { class: "cx-note", role: "alert" }, note) : null,
  );
}

function waitRow(w, isTarget, unsent, now) {
  const seconds = waitSeconds(w.at, now + pad.clockOffset);
  const late = isLate(seconds, pad.greet.standard);
  // This device's own arrival can be undone for 30 s, like a start.
  const mine = pad.recent[w.id] && now - pad.recent[w.id] < UNDO_MS && pad.lastKind[w.id] === "arrival";
  return el(
    "div",
    { class: `cx-row cx-wait-row${isTarget ? " cx-next" : ""}`, "data-visit": w.id, "data-state": unsent ? "waiting" : "saved" },
    button(
      [
        el("span", { class: `cx-timer${late ? " cx-late" : ""}`, "data-since": w.at }, waitClock(seconds)),
        el("span", { class: "cx-wait-by" }, ` · ${iso(w.by)}`),
        isTarget ? el("span", { class: "cx-chip cx-next-chip" }, t("next_greeted")) : null,
      ],
      { class: "cx-btn cx-wait-pick", "aria-pressed": String(isTarget), "data-act": "pick" },
      () => { pad.pick = w.id; render(); },
    ),
    mine ? button(t("undo"), { "data-tap": "arrival_undo" }, () => tap("arrival_undo", w.id)) : null,
    button(t("left_before"), { class: "cx-btn cx-left", "data-tap": "left" }, () => {
      if (pad.pick === w.id) pad.pick = null;
      tap("left", newId(), { arrival: w.id });
    }),
  );
}

// The running timers tick every second without a redraw of the pad.
function updateTimers() {
  if (!pad.root || !pad.greet) return;
  const now = Date.now() + pad.clockOffset;
  for (const span of pad.root.querySelectorAll(".cx-timer[data-since]")) {
    const seconds = waitSeconds(Number(span.dataset.since), now);
    const text = waitClock(seconds);
    if (span.textContent !== text) span.textContent = text;
    span.classList.toggle("cx-late", isLate(seconds, pad.greet.standard));
  }
}

function pills(list, chosen, kind, visitId, multi) {
  return el(
    "div",
    { class: "cx-row cx-pills" },
    list.map((r) =>
      button(r.name, { class: "cx-btn cx-pill", "aria-pressed": String(chosen(r.id)), "data-tap": kind, "data-value": r.id }, () => multi(r.id)),
    ),
  );
}

// An open card (issue #24: two of them fit a phone's screen with both
// outcome rows in sight): the reason (a chip once chosen, which opens the
// choices again), then one block of controls that CSS lays out by width: on
// a phone [Used name][Recommended] / [1][2][3][4][5+] / [No purchase][Came
// back]; on a tablet the markers and Came back on one line, the units and No
// purchase on the next.
function openCard(v) {
  const d = pad.data;
  const body = [];
  const chosen = v.reason !== null && v.reason !== undefined && !pad.reasonOpen[v.id];
  if (chosen) {
    const name = nameOf(d.reasons, v.reason) || v.reason_name || t("reason");
    body.push(
      el(
        "div",
        { class: "cx-row cx-reason-chip" },
        button(`${name} ✎`, { class: "cx-btn cx-pill", "aria-pressed": "true", "aria-label": t("change_reason", { name }), "data-act": "change-reason", "data-value": v.reason }, () => { pad.reasonOpen[v.id] = true; render(); }),
      ),
    );
  } else {
    body.push(
      pills(d.reasons, (id) => v.reason === id, "reason", v.id, (id) => {
        delete pad.reasonOpen[v.id];
        if (v.reason !== id) tap("reason", v.id, { reason: id });
        else render();
      }),
    );
  }
  const back = cameBackButton(v);
  body.push(
    el(
      "div",
      { class: "cx-controls" },
      MARKERS.map((m) =>
        button(t(m), { class: "cx-btn cx-pill cx-marker", "aria-pressed": String(v[m]), "data-tap": "marker", "data-value": m }, () => tap("marker", v.id, { marker: m, on: !v[m] })),
      ),
      back,
      el("span", { class: "cx-break", "aria-hidden": "true" }),
      [1, 2, 3, 4].map((n) => button(String(n), { class: "cx-btn cx-unit", "data-tap": "purchase", "data-value": n }, () => tap("purchase", v.id, { units: n }))),
      button("5+", { class: "cx-btn cx-unit", "data-act": "more" }, () => { pad.stepper[v.id] = pad.stepper[v.id] || 5; render(); }),
      button(t("no_purchase"), { class: `cx-btn cx-none ${back ? "" : "cx-alone"}`, "data-tap": "no_purchase" }, () => tap("no_purchase", v.id)),
    ),
  );
  body.push(...cameBackForm(v));
  if (pad.stepper[v.id]) {
    const n = pad.stepper[v.id];
    const set = (x) => { pad.stepper[v.id] = Math.max(5, Math.min(99, x)); render(); };
    body.push(
      el(
        "div",
        { class: "cx-row cx-stepper" },
        // data-repeat: tapped in quick succession on purpose (not a double tap).
        button("−", { "aria-label": t("fewer"), "data-act": "fewer", "data-repeat": true }, () => set(n - 1)),
        el("span", { class: "cx-count", "aria-live": "polite" }, tn("units", n)),
        button("+", { "aria-label": t("more"), "data-act": "more-units", "data-repeat": true }, () => set(n + 1)),
        button(t("save_units"), { class: "cx-btn cx-primary", "data-act": "stepper-save" }, () => { delete pad.stepper[v.id]; tap("purchase", v.id, { units: n }); }),
      ),
    );
  }
  return body;
}

function closedCard(v, mine) {
  const d = pad.data;
  const what = closeText(v);
  const body = [];
  if (v.voided) return [el("p", { class: "cx-caption" }, t("removed", { engagement: t(v.engagement) }))];
  body.push(
    el(
      "div",
      { class: "cx-row cx-confirm" },
      el("span", { class: "cx-saved-text" }, v.waiting ? t("waiting_what", { what }) : t("saved_what", { what })),
      // Undo takes back this associate's own close only.
      mine && (!v.closed_by || v.closed_by === d.me.name) ? button(t("undo"), { "data-tap": "undo" }, () => tap("undo", v.id)) : null,
    ),
  );
  // Issue #30: a customer who left before greeting had no moment to ask about.
  if (v.left) return body;
  if (v.outcome === "no_purchase") {
    body.push(el("p", { class: "cx-caption" }, t("why_no_purchase")));
    body.push(pills(d.no_sale, (id) => v.no_sale === id, "no_sale_reason", v.id, (id) => tap("no_sale_reason", v.id, { reason: v.no_sale === id ? null : id })));
  } else if (!pad.amountOpen[v.id]) {
    body.push(button(t("add_amount"), { "data-act": "add-amount" }, () => { pad.amountOpen[v.id] = true; render(); }));
  } else {
    const shown = v.amount_typed !== undefined ? v.amount_typed || "" : v.cents === null ? "" : (v.cents / 100).toFixed(2);
    const input = el("input", { type: "number", min: 0, step: "0.01", inputmode: "decimal", class: "cx-amount", "aria-label": t("amount"), value: shown });
    // Sent as typed (the number field gives "" for what is not a number):
    // the server turns it into cents and says so on the card if it cannot.
    const save = () => {
      if (input.validity && input.validity.badInput) {
        // Not a number at all: say so, and do not clear the amount saved.
        pad.notes[v.id] = t("not_amount");
        render();
        return;
      }
      const typed = input.value.trim();
      tap("amount", v.id, { amount: typed === "" ? null : typed });
    };
    input.addEventListener("keydown", (e) => e.key === "Enter" && save());
    body.push(el("div", { class: "cx-row" }, input, button(t("save_amount"), { "data-act": "amount-save" }, save)));
  }
  body.push(...followUp(v));
  return body;
}

// "Follow-up" on a closed visit (#15): one tap opens the due choices, each
// carrying the remembered channel, so a promise is two taps after the close.
// The promise goes straight to the server (it answers with the visit code to
// write down); when it cannot, the card says so and keeps the choices.
function followUp(v) {
  const choices = pad.data.followup;
  if (!choices || v.waiting) return [];
  const f = pad.follow[v.id] || {};
  if (f.made) {
    return [
      el(
        "div",
        { class: "cx-row cx-confirm cx-promised", "data-code": f.made.code },
        // The code in bold and large: it is copied by hand onto a receipt.
        el("span", {}, ...promiseText(f.made, choices.channels).split(f.made.code).flatMap((part, i) => (i ? [el("strong", { class: "cx-code" }, f.made.code), part] : [part]))),
        button(t("done"), { "data-act": "followup-done" }, () => { delete pad.follow[v.id]; render(); }),
      ),
    ];
  }
  if (!f.open) return [button(t("follow_up"), { "data-act": "followup" }, () => { pad.follow[v.id] = { open: true }; render(); })];
  const channel = followChannel();
  const name = choices.channels.find((c) => c.id === channel).name;
  const out = [
    el("p", { class: "cx-caption" }, t("when_how")),
    el("div", { class: "cx-row cx-due" }, choices.due.map((d) => button(t("due_channel", { due: d.name, channel: name }), { "data-due": d.id, disabled: f.busy }, () => promise(v.id, d.id, channel))), button(t("pick_day"), { "data-act": "followup-date" }, () => { f.dateOpen = true; render(); })),
    pills(choices.channels, (id) => id === channel, "channel", v.id, (id) => { localStorage.setItem(CHANNEL_KEY, id); render(); }),
  ];
  if (f.dateOpen) {
    const input = el("input", { type: "date", class: "cx-amount", "aria-label": t("due_day") });
    out.push(el("div", { class: "cx-row" }, input, button(t("promise_channel", { channel: name }), { "data-act": "followup-date-save", disabled: f.busy }, () => input.value && promise(v.id, input.value, channel))));
  }
  if (f.note) out.push(el("p", { class: "cx-note", role: "alert" }, f.note));
  out.push(button(t("no_follow_up"), { "data-act": "followup-cancel" }, () => { delete pad.follow[v.id]; render(); }));
  return out;
}

// "Came back" on an open visit (#15): the customer brings an earlier visit's
// code (from the receipt); the link goes straight to the server, like a
// promise, and a refusal is a sentence on the card. The button sits among
// the card's controls; its form (or the linked visit) below them.
function cameBackButton(v) {
  if (!pad.data.followup || v.waiting) return null;
  const b = pad.back[v.id] || {};
  if (b.linked) return null;
  return button(t("came_back"), { class: "cx-btn cx-back", "aria-expanded": String(!!b.open), "data-act": "came-back" }, () => {
    if (b.open) delete pad.back[v.id];
    else pad.back[v.id] = { open: true };
    render();
  });
}

function cameBackForm(v) {
  if (!pad.data.followup || v.waiting) return [];
  const b = pad.back[v.id] || {};
  if (b.linked) return [el("p", { class: "cx-caption cx-linked" }, t("return_of", { code: b.linked }))];
  if (!b.open) return [];
  const input = el("input", { type: "text", class: "cx-amount", maxlength: 8, autocomplete: "off", autocapitalize: "characters", spellcheck: "false", "aria-label": t("visit_code") });
  const send = () => linkReturn(v.id, input.value);
  input.addEventListener("keydown", (e) => e.key === "Enter" && send());
  const out = [el("div", { class: "cx-row" }, input, button(t("link"), { "data-act": "came-back-save", disabled: b.busy }, send), button(t("cancel"), { "data-act": "came-back-cancel" }, () => { delete pad.back[v.id]; render(); }))];
  if (b.note) out.push(el("p", { class: "cx-note", role: "alert" }, b.note));
  return out;
}

async function linkReturn(visitId, code) {
  const b = pad.back[visitId];
  if (!b || b.busy || !code.trim()) return;
  b.busy = true;
  b.note = null;
  try {
    const { status, answer } = await api("POST", `/visits/${encodeURIComponent(visitId)}/return`, { code });
    if (status === 200 || status === 201) b.linked = answer.code;
    else b.note = answer.error || t("link_refused", { status });
  } catch (e) {
    b.note = t("link_offline");
  }
  b.busy = false;
  render();
}

function followChannel() {
  return pad.data && pad.data.followup ? rememberedChannel(localStorage, pad.data.followup) : null;
}

async function promise(visitId, due, channel) {
  const f = pad.follow[visitId];
  if (!f || f.busy) return; // a double tap sends one promise
  f.busy = true;
  f.note = null;
  render();
  try {
    const { status, answer } = await api("POST", "/followups", { visit_id: visitId, due, channel });
    if (status === 200 || status === 201) f.made = answer;
    else f.note = answer.error || t("follow_refused", { status });
  } catch (e) {
    f.note = t("follow_offline");
  }
  f.busy = false;
  render();
}

function card(v) {
  const mine = pad.recent[v.id] && Date.now() - pad.recent[v.id] < UNDO_MS;
  const note = pad.notes[v.id];
  // A card drawn exactly so already is not built again: a stand-in tells
  // morph to leave the live one alone (building ten cards and comparing them
  // took ~5 ms a redraw on a phone).
  const sig = JSON.stringify([W.lang, v, !!mine, note, pad.stepper[v.id], !!pad.amountOpen[v.id], pad.follow[v.id], pad.back[v.id], !!pad.reasonOpen[v.id], pad.lastKind[v.id], followChannel(), elapsed(v.started), pad.stopped]);
  if (pad.cardSigs.get(v.id) === sig) return el("section", { class: "cx-card", "data-visit": v.id, "data-keep": "1" });
  pad.cardSigs.set(v.id, sig);
  const state = v.waiting ? "waiting" : "saved";
  const isOpen = !v.outcome && !v.voided;
  // This device's start or reopen of an open visit can be undone for 30 s:
  // the Undo sits in the card's head, so it costs the card no row.
  const said = isOpen && mine && ["start", "reopen"].includes(pad.lastKind[v.id]);
  const head = el(
    "div",
    { class: "cx-row cx-head" },
    el("strong", {}, ENGAGEMENTS.includes(v.engagement) ? t(v.engagement) : v.engagement),
    el("span", { class: "cx-caption" }, ` · ${elapsed(v.started)} · ${iso(v.by)}`),
    el("span", { class: `cx-chip cx-${state}` }, v.waiting ? t("chip_waiting") : t("chip_saved")),
    said ? button(t("undo"), { "data-tap": "undo" }, () => tap("undo", v.id)) : null,
  );
  return el(
    "section",
    { class: "cx-card", "data-visit": v.id, "data-state": state, "data-open": isOpen ? "1" : "0" },
    head,
    // Issue #30: a visit that greeted a waiting customer says how soon (its
    // own short line: the head is one line at 390 px and would cut it).
    v.waited === null || v.waited === undefined ? null : el("p", { class: "cx-caption cx-greeted" }, t("greeted_after", { wait: waitText(v.waited) })),
    note ? el("p", { class: "cx-note", role: "alert" }, note) : null,
    isOpen ? openCard(v) : closedCard(v, mine),
  );
}

function todayView(shown) {
  const rows = pad.today.map((id) => shown.get(id)).filter((v) => v && v.outcome && !v.voided);
  const count = Math.max(pad.todayCount, rows.length);  // the server's count, or more since
  // Unchanged since the last drawing: leave the live list alone (see card).
  const sig = JSON.stringify([W.lang, rows, count, pad.todayOpen, pad.todayMore, !!pad.data.followup, pad.data.reasons]);
  if (pad.todaySig === sig) return el("details", { class: "cx-today", "data-keep": "1" });
  pad.todaySig = sig;
  const box = el("details", { class: "cx-today", open: pad.todayOpen || undefined }, el("summary", {}, tn("today", count)));
  box.addEventListener("toggle", () => (pad.todayOpen = box.open));
  // Issue #24: each row is one line at 390 px (the text cut with an
  // ellipsis); a tap on it shows the whole line and its actions.
  for (const v of rows) {
    const reason = v.left ? t("left_lower") : nameOf(pad.data.reasons, v.reason) || v.reason_name || t("no_reason");
    const outcome = v.outcome === "purchased" ? tn("units", v.units) : t("no_purchase_lower");
    const more = !!pad.todayMore[v.id];
    const toggle = () => {
      if (more) delete pad.todayMore[v.id];
      else pad.todayMore[v.id] = true;
      render();
    };
    box.append(
      el(
        "div",
        { class: `cx-today-row${more ? " cx-more" : ""}`, "data-visit": v.id },
        button(el("span", {}, `${localTime(v.started)} · ${t(v.engagement)} · ${iso(reason)} · ${outcome} · ${iso(v.by)}`), { class: "cx-btn cx-today-item", "aria-expanded": String(more), "data-act": "today-more" }, toggle),
        more
          ? el(
              "div",
              { class: "cx-row cx-today-acts" },
              button(t("reopen"), { "data-tap": "reopen" }, () => { delete pad.todayMore[v.id]; tap("reopen", v.id); }),
              pad.data.followup ? button(t("follow_up"), { "data-act": "followup" }, () => { delete pad.todayMore[v.id]; pad.follow[v.id] = { open: true }; render(); }) : null,
            )
          : null,
      ),
    );
  }
  return box;
}

// "New customer — how did the visit start?" with its first words in bold,
// wherever the language puts them.
function leadLine() {
  const [before, after = ""] = t("how_start").split("{new_customer}");
  return [before, el("strong", {}, t("new_customer")), after].filter((part) => part !== "");
}

function logView() {
  const d = pad.data;
  pad.outbox = readOutbox(localStorage);
  const shown = overlay(pad.visits, pad.outbox, d.me);
  const now = Date.now();
  const cards = [...shown.values()]
    // A closed card stays while its Undo lasts, or while a follow-up is being promised.
    .filter((v) => (!v.outcome && !v.voided) || (pad.recent[v.id] && now - pad.recent[v.id] < UNDO_MS) || pad.notes[v.id] || pad.follow[v.id])
    .sort((a, b) => (a.started < b.started ? 1 : a.started > b.started ? -1 : 0));
  const open = cards.filter((v) => !v.outcome && !v.voided).length;
  const bar = el(
    "div",
    { class: `cx-bar ${pad.offline || pad.stopped ? "cx-bar-bad" : ""}`, role: "status", "data-waiting": countWaiting(pad.outbox), "data-offline": pad.offline ? "1" : "0" },
    el("span", {}, barText(pad)),
    // Said in the fixed bar, not in the page: a line that comes and goes
    // above the cards would move them under a finger (#24).
    pad.hint && Date.now() < pad.hint.until ? el("span", { class: "cx-hint" }, pad.hint.text) : null,
    // A refused shift: the page's next load shows "Who is logging?".
    pad.stopped ? button(t("sign_in_again"), { "data-act": "reload" }, () => location.reload()) : null,
  );
  const who = el(
    "div",
    { class: "cx-row cx-whobar" },
    el("h3", {}, `${iso(d.me.name)} · ${iso(d.me.store)}`),
    button(t("not_you"), { "data-act": "not-you" }, notYou),
  );
  const list = el("div", { class: "cx-cards" }, cards.map(card));
  // Forget the drawings of cards that left (a tablet may stay open for days).
  const drawn = new Set(cards.map((v) => v.id));
  for (const id of [...pad.cardSigs.keys()]) if (!drawn.has(id)) pad.cardSigs.delete(id);
  return el(
    "div",
    {},
    bar,
    who,
    pad.notYouNote ? el("p", { class: "cx-note" }, pad.notYouNote) : null,
    // The team's quiet line (#14): from the tenth closed visit of the day.
    pad.teamLine ? el("p", { class: "cx-caption cx-team" }, pad.teamLine) : null,
    el("p", { class: "cx-lead" }, ...leadLine()),
    startRow(),
    greetView(now),
    el("h3", {}, tn("open_visits", open)),
    cards.length ? null : el("p", { class: "cx-caption" }, t("no_open")),
    list,
    todayView(shown),
  );
}

// Everything a redraw depends on: the pad redraws only when it changed, so
// a button is never swapped for a copy under a finger between two frames.
function viewSig() {
  const now = Date.now();
  const recent = Object.keys(pad.recent).filter((id) => now - pad.recent[id] < UNDO_MS);
  return JSON.stringify([
    W.lang,
    pad.data.mode, readOutbox(localStorage), pad.visits, pad.today, pad.todayCount, pad.teamLine, pad.notes,
    recent, pad.stepper, pad.amountOpen, pad.follow, pad.back, followChannel(), pad.todayOpen, pad.offline, pad.stopped,
    pad.notYouNote, pad.pin, pad.whoError, Math.floor(now / 60000), pad.reasonOpen, pad.todayMore,
    pad.hint && now < pad.hint.until ? pad.hint.text : null,
    // Issue #30 (all empty with time to greet off); the timers tick by themselves (updateTimers).
    pad.greet, pad.waiting, pad.settled, pad.pick, pad.waitingAll, pad.clockOffset,
    pad.greetNote && now < pad.greetNote.until ? pad.greetNote.text : null,
  ]);
}

function render() {
  if (!pad.root || !pad.data) return;
  const sig = viewSig();
  if (sig === pad.lastSig && pad.root.firstChild) return;
  pad.lastSig = sig;
  const view = pad.data.mode === "log" ? logView() : whoView();
  const live = pad.root.firstChild;
  const patched = live && sameKind(live, view);
  if (patched) morph(live, view);
  if (!patched || pad.root.querySelector("[data-keep]")) {
    // Nothing to patch (the first drawing, or Who is logging?), or a stand-in
    // found no live card: draw everything anew.
    pad.cardSigs.clear();
    pad.todaySig = null;
    pad.root.replaceChildren(pad.data.mode === "log" ? logView() : whoView());
  }
}

// The pad changes the page in place: a redraw keeps every node that is still
// right and touches only what differs. Replacing the whole pad made the
// browser restyle and lay out all of it (~20 ms a frame at phone size), and
// the answer that turns a tap *saved* waited behind that frame; one changed
// card costs ~4 ms. A button that did not change stays the very node under
// the finger.
//
// Two nodes are "the same kind" when one can be patched into the other: same
// tag, the same visit for a card or else the same class (a row that comes or
// goes does not shift every row after it into its neighbour's place), and
// never a field or a <details> (their listeners and closures belong to the
// new node, so the new node goes in).
const FRESH = new Set(["INPUT", "DETAILS", "SELECT", "TEXTAREA"]);

export function sameKind(a, b) {
  if (a.nodeType !== b.nodeType) return false;
  if (a.nodeType !== Node.ELEMENT_NODE) return a.nodeType === Node.TEXT_NODE;
  if (a.tagName !== b.tagName || (FRESH.has(a.tagName) && !b.hasAttribute("data-keep"))) return false;
  if (a.hasAttribute("data-visit") || b.hasAttribute("data-visit")) return a.getAttribute("data-visit") === b.getAttribute("data-visit");
  return a.className === b.className;
}

// Make `live` look like `next` (drawn, never shown), moving nodes in from
// `next` where nothing live can be patched. A stand-in (data-keep) leaves its
// live card as it is.
export function morph(live, next) {
  if (next.hasAttribute("data-keep")) return;
  for (const { name } of [...live.attributes]) if (!next.hasAttribute(name)) live.removeAttribute(name);
  for (const { name, value } of [...next.attributes]) if (live.getAttribute(name) !== value) live.setAttribute(name, value);
  // What a tap on a button does comes from the new drawing (its closure holds
  // the visit's current state).
  if (actions.has(next)) actions.set(live, actions.get(next));
  else actions.delete(live);
  const want = [...next.childNodes];
  for (let i = 0; i < want.length; i++) {
    const n = want[i];
    const o = live.childNodes[i];
    if (o && sameKind(o, n)) {
      if (o.nodeType === Node.TEXT_NODE) {
        if (o.data !== n.data) o.data = n.data;
      } else morph(o, n);
      continue;
    }
    // Something else here (another visit's card, a row that went): the live
    // node for this one may be further on.
    const found = n.nodeType === Node.ELEMENT_NODE ? [...live.childNodes].slice(i + 1).find((c) => sameKind(c, n)) : null;
    if (found) {
      live.insertBefore(found, o);
      morph(found, n);
    } else live.insertBefore(n, o || null);
  }
  while (live.childNodes.length > want.length) live.lastChild.remove();
}

// Periodic redraws skip a moment when someone is typing in the pad (a PIN, a
// sale amount): redrawing would take the field away under their fingers.
function typing() {
  const active = document.activeElement;
  return !!(active && active.tagName === "INPUT" && pad.root && pad.root.contains(active));
}

function tick() {
  if (shouldSend(pad, Date.now())) flush();
  else if (pad.data && pad.data.mode === "log" && !typing()) render();
  updateTimers();
}

// Exposed for the browser tests, which drive the pure functions directly
// (and ask for a board read now rather than at the next 5 s tick).
window.cxPad = { refresh, isRepeat, tapKey, waitingAfter, greetTarget, startFields, waitSeconds, waitClock, isLate, waitText, shownWaiting, CUSTOMER_IN, DOUBLE_TAP_MS, DOUBLE_TAP_SLOP_PX, morph, sameKind, readOutbox, nextBatch, withoutAnswered, shouldSend, retryDelay, overlay, barText, closeText, rememberedChannel, promiseText, say, sayCount, wantedLanguage, words: () => W, CHANNEL_KEY, EFFECTS, OUTBOX_KEY, state: pad };

// Streamlit calls this on every run of the page with the new data. It may
// call it again without the previous cleanup, so setting up is idempotent.
function release() {
  for (const t of pad.timers) clearInterval(t);
  pad.timers = [];
  if (pad.unwatch) pad.unwatch();
  pad.unwatch = null;
}

const again = () => flush();

export default function mount({ parentElement, data, setTriggerValue }) {
  const first = !pad.data || data.mode !== pad.data.mode;
  pad.data = data;
  keepForOffline(data); // the offline pad's data (issue #29)
  if (data.words) W = data.words;
  pad.rerun = setTriggerValue || null;
  let root = parentElement.querySelector(".cx-pad");
  if (!root) {
    root = el("div", { class: "cx-pad" });
    parentElement.append(root);
  }
  pad.root = root;
  pad.cardSigs.clear();
  pad.todaySig = null;
  pad.lastSig = null;
  // A later run's board may be older than what the pad has since fetched.
  if (data.mode === "log" && data.board && (first || !pad.version)) useBoard(data.board);
  release();
  if (data.mode === "log") pad.unwatch = keepUsable(root);
  window.addEventListener("click", ownClick, true);
  window.addEventListener("focusin", ownFocus, true);
  pad.timers = [setInterval(tick, 1000), setInterval(refresh, POLL_MS)];
  window.addEventListener("online", again);
  document.addEventListener("visibilitychange", again);
  render();
  flush(); // what an earlier page or a closed tab left waiting
  return () => {
    release();
    window.removeEventListener("click", ownClick, true);
    window.removeEventListener("focusin", ownFocus, true);
    window.removeEventListener("online", again);
    document.removeEventListener("visibilitychange", again);
  };
}

// --- the offline pad (issue #29) ----------------------------------------------
// The Log page keeps its data on the device: a tablet reloaded while the
// server is unreachable opens the pad with it (cxlog/web/app_files/offline.js,
// through the service worker). What is kept is the board as the pad last
// showed it (taken again when the page goes away or out of sight), and only
// while someone is on shift: "Who is logging?" forgets it.
export const PAD_DATA_KEY = "cxlog.pad.data.v1";
let keptWatching = false;

function shownBoard() {
  const all = Object.values(pad.visits);
  return {
    ...(pad.data.board || {}),
    version: pad.version,
    open: all.filter((v) => !v.outcome && !v.voided),
    open_count: pad.openCount,
    today: pad.today.map((id) => pad.visits[id]).filter(Boolean),
    today_count: pad.todayCount,
    team_line: pad.teamLine,
    // Issue #30: who waits as last read (this device's unsent taps are in its outbox).
    greet: pad.greet || undefined,
    waiting: pad.greet ? waitingAfter(pad.waiting, pad.settled.map((s) => s.tap), pad.data.me, pad.clockOffset).list.map((w) => ({ id: w.id, at: new Date(w.at).toISOString(), by: w.by })) : undefined,
  };
}

export function keepForOffline(data, store = localStorage) {
  try {
    if (data && data.mode === "log") store.setItem(PAD_DATA_KEY, JSON.stringify(data));
    else store.removeItem(PAD_DATA_KEY);
  } catch (e) {
    // Storage full or refused: the page works; only the offline pad has less.
  }
  if (keptWatching) return;
  keptWatching = true;
  const keepShown = () => {
    if (pad.data && pad.data.mode === "log") keepForOffline({ ...pad.data, board: shownBoard() }, store);
  };
  window.addEventListener("pagehide", keepShown);
  document.addEventListener("visibilitychange", () => document.hidden && keepShown());
}

// The data kept by keepForOffline, or null when no one was on shift.
export function savedForOffline(store = localStorage) {
  try {
    const data = JSON.parse(store.getItem(PAD_DATA_KEY) || "null");
    return data && data.mode === "log" && data.me ? data : null;
  } catch (e) {
    return null;
  }
}
