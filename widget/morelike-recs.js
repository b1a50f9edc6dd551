// <morelike-recs>: the morelike widget. An ES module with no dependencies
// but its placeholders, ./morelike-shapes.js, served beside it.
//
//   <script type="module" src="https://your-morelike/widget/morelike-recs.js"></script>
//   <morelike-recs store="demo" product="15970" key="pk_..."></morelike-recs>
//
// It opens a WebSocket to the morelike server, shows a grid of products
// similar to `product`, and on each card offers "More Like This" and
// "Not My Style"; the next page comes from every vote so far. A toolbar
// offers Undo, Start over and More; what the shopper liked stays in a
// "You liked" strip (newest first), each with its own undo. The session id is kept per
// store, product and filters in sessionStorage, so a reload resumes it; when
// the socket drops, votes are disabled until it is back (reconnecting with
// back-off). It emits DOM events for the merchant's own analytics:
// morelike:vote, morelike:click, morelike:page, morelike:votes,
// morelike:error.
//
// It never builds HTML from catalog data: names, ids and prices go in as text
// and attributes, colours come from its own table (never from catalog text),
// links only as http(s), and only http(s) image URLs are loaded. When the
// server refuses the key, the page's origin or the store, the widget says so
// and stops retrying; a mistake in its own attributes (filters, k, server)
// is a configuration error, said once (data-state="error", console.error,
// morelike:error with the server's message) and never retried until fixed.

import { COLOUR_FIELDS, firstOf, kindOf, placeholderSvg } from './morelike-shapes.js';

export { kindOf, placeholderColour, placeholderSvg, shapeOf } from './morelike-shapes.js';

// ---------------------------------------------------------------------------
// Merchant attributes: filters and links.

/** Reads the `filters` attribute: `{filters}` or `{error}` saying what to fix. */
export function parseFilters(text) {
  if (text == null || text.trim() === '') return { filters: null };
  let value;
  try { value = JSON.parse(text); } catch (e) {
    return { error: `the filters attribute is not valid JSON (${e.message}); write it like filters='{"in_stock":true}'` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { error: 'the filters attribute must be a JSON object, like {"in_stock":true}' };
  }
  const known = ['in_stock', 'attributes', 'price_min', 'price_max'];
  for (const [name, v] of Object.entries(value)) {
    if (!known.includes(name)) return { error: `filters: unknown key "${name}" (use ${known.join(', ')})` };
    if (name === 'in_stock' && typeof v !== 'boolean') return { error: 'filters: in_stock must be true or false' };
    if ((name === 'price_min' || name === 'price_max') && !(typeof v === 'number' && Number.isFinite(v))) {
      return { error: `filters: ${name} must be a number` };
    }
    if (name === 'attributes') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'filters: attributes must be an object of field → list of values' };
      for (const [field, values] of Object.entries(v)) {
        if (!Array.isArray(values) || !values.every((x) => typeof x === 'string')) {
          return { error: `filters: attributes.${field} must be a list of strings` };
        }
      }
    }
  }
  return { filters: value };
}

/** An http(s) URL resolved against the page, or null (never javascript:, data:, …). */
function safeHttp(url) {
  if (typeof url !== 'string' || !url) return null;
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch (_) {
    return null;
  }
}

/** An image URL the widget will load: http(s) only (never javascript: or data:). */
export function safeImage(url) { return safeHttp(url); }

/**
 * A product's link from the `href` template: `{id}` and `{field}` (any of
 * the item's attributes) are replaced by their URL-encoded values; the
 * result must be an http(s) URL, else there is no link. Without a template,
 * the item's own `url` when it carries one.
 */
export function productLink(template, item) {
  if (template) {
    const filled = template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name) => {
      const value = name === 'id' ? item.id : name === 'name' ? item.name : (item.attributes || {})[name];
      return encodeURIComponent(value == null ? '' : String(value));
    });
    return safeHttp(filled);
  }
  return safeHttp(item.url);
}

// ---------------------------------------------------------------------------
// Styles.

const STYLE = `
:host {
  display: block;
  font-family: var(--morelike-font, system-ui, -apple-system, "Segoe UI", sans-serif);
  color: var(--morelike-fg, #1b1b1b);
  --_accent: var(--morelike-accent, #2f5bd3);
  --_radius: var(--morelike-radius, 12px);
  --_bg: var(--morelike-card-bg, #ffffff);
  --_muted: var(--morelike-muted, #666);
}
.bar { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: 0 0 .6rem; }
.bar .status { flex: 1 1 12rem; margin: 0; }
.status { font-size: .85rem; color: var(--_muted); min-height: 1.2em; margin: 0 0 .5rem; }
.tools { display: flex; gap: .4rem; flex-wrap: wrap; }
button.tool {
  font: inherit; font-size: .8rem; padding: .4rem .75rem; min-height: 2.2rem; border-radius: 999px; cursor: pointer;
  border: 1px solid color-mix(in srgb, var(--_accent) 45%, transparent); background: var(--_bg); color: var(--_accent);
}
button.tool:hover:not([disabled]) { background: color-mix(in srgb, var(--_accent) 8%, var(--_bg)); }
button.tool[disabled] { opacity: .45; cursor: not-allowed; }
.liked { margin: 0 0 .75rem; }
.liked[hidden] { display: none; }
.liked h3 { font-size: .8rem; font-weight: 650; margin: 0 0 .35rem; color: var(--_muted); text-transform: uppercase; letter-spacing: .04em; }
.liked ul { list-style: none; margin: 0; padding: 0 0 .2rem; display: flex; gap: .45rem; overflow-x: auto; contain: inline-size; }
.liked li {
  display: flex; align-items: center; gap: .4rem; flex: 0 0 auto; max-width: 15rem;
  background: var(--_bg); border-radius: 999px; padding: .2rem .25rem .2rem .2rem;
  box-shadow: 0 1px 2px rgba(0,0,0,.14);
}
.liked .thumb { width: 2rem; height: 2rem; border-radius: 50%; overflow: hidden; flex: 0 0 auto; background: #f1f1ef; display: grid; place-items: center; }
.liked .thumb img { width: 100%; height: 100%; object-fit: cover; }
.liked .thumb svg { width: 80%; height: 80%; }
.liked .label { font-size: .78rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.liked button.unlike {
  font: inherit; font-size: .75rem; border: 0; border-radius: 999px; cursor: pointer; padding: .3rem .55rem;
  background: color-mix(in srgb, var(--_accent) 10%, transparent); color: var(--_accent); flex: 0 0 auto;
}
.liked button.unlike[disabled] { opacity: .45; cursor: not-allowed; }
.grid {
  display: grid; gap: var(--morelike-gap, 14px);
  grid-template-columns: repeat(auto-fill, minmax(var(--morelike-card-min, 160px), 1fr));
  list-style: none; margin: 0; padding: 0;
}
.grid[aria-busy="true"] { opacity: .75; transition: opacity .2s; }
.card {
  background: var(--_bg); border-radius: var(--_radius); overflow: hidden;
  box-shadow: 0 1px 3px rgba(0,0,0,.12), 0 1px 2px rgba(0,0,0,.08);
  display: flex; flex-direction: column;
  animation: enter .32s ease-out both;
}
.card:nth-child(2) { animation-delay: .03s } .card:nth-child(3) { animation-delay: .06s }
.card:nth-child(4) { animation-delay: .09s } .card:nth-child(5) { animation-delay: .12s }
.card:nth-child(6) { animation-delay: .15s } .card:nth-child(7) { animation-delay: .18s }
.card:nth-child(8) { animation-delay: .21s }
@keyframes enter { from { opacity: 0; transform: translateY(10px) scale(.98) } to { opacity: 1; transform: none } }
.picture {
  aspect-ratio: 4 / 5; display: flex; flex-direction: column; align-items: stretch; justify-content: flex-end;
  border: 0; padding: 0; margin: 0; position: relative; overflow: hidden;
  font: inherit; font-size: .72rem; font-weight: 600; letter-spacing: .03em; text-transform: uppercase;
  cursor: pointer; text-align: left; width: 100%; color: #3a3a3a; text-decoration: none;
  background: linear-gradient(160deg, #f4f4f1, #e6e6e1);
}
.picture svg.shape { position: absolute; inset: 12% 16% 22%; width: 68%; height: 66%; filter: drop-shadow(0 2px 3px rgba(0,0,0,.15)); }
.picture .kind { position: relative; padding: .45rem .6rem; background: linear-gradient(transparent, rgba(255,255,255,.85) 40%); }
.picture img { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: cover; opacity: 0; transition: opacity .25s; }
.picture.loaded img { opacity: 1; }
.picture.loading::before {
  content: ""; position: absolute; inset: 0;
  background: linear-gradient(100deg, transparent 30%, rgba(255,255,255,.65) 50%, transparent 70%) #e9e9e5;
  background-size: 220% 100%; animation: shimmer 1.1s linear infinite;
}
@keyframes shimmer { from { background-position: 120% 0 } to { background-position: -120% 0 } }
@media (prefers-reduced-motion: reduce) { .card { animation: none } .picture.loading::before { animation: none } }
.body { padding: .6rem .7rem .7rem; display: flex; flex-direction: column; gap: .35rem; flex: 1; }
.name { font-size: .9rem; line-height: 1.25; margin: 0; flex: 1; }
.name a { color: inherit; text-decoration: none; }
.name a:hover { text-decoration: underline; }
.price { font-weight: 650; font-size: .9rem; }
.actions { display: grid; grid-template-columns: 1fr 1fr; gap: .4rem; }
button.vote {
  font: inherit; font-size: .78rem; padding: .45rem .3rem; border-radius: calc(var(--_radius) / 1.5);
  border: 1px solid var(--_accent); cursor: pointer; background: transparent; color: var(--_accent);
  min-height: 2.2rem;
}
button.vote.up { background: var(--_accent); color: var(--morelike-accent-fg, #fff); }
button.vote:hover { filter: brightness(1.08); }
button:focus-visible, a:focus-visible, .picture:focus-visible { outline: 3px solid var(--morelike-focus, #f2a900); outline-offset: 2px; }
button.vote[disabled] { opacity: .55; cursor: not-allowed; }
:host([data-state="busy"]) button.vote[disabled] { cursor: progress; }
.notice {
  border-radius: calc(var(--_radius) / 1.5); padding: .6rem .75rem; margin: 0 0 .6rem; font-size: .85rem;
}
.notice[hidden] { display: none; }
.notice.reconnecting { background: #fff6db; color: #5c4400; display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
.notice.reconnecting button { font: inherit; font-size: .8rem; border: 1px solid currentColor; border-radius: 999px; background: transparent; color: inherit; padding: .2rem .6rem; cursor: pointer; }
.notice.empty { background: #f1f1ef; color: var(--morelike-fg, #1b1b1b); padding: 1.2rem 1rem; text-align: center; }
.notice.empty strong { display: block; font-size: 1rem; margin-bottom: .25rem; }
.status.refused, .notice.problem {
  color: var(--morelike-error, #8c1d18); background: var(--morelike-error-bg, #fdecea);
  border-radius: calc(var(--_radius) / 1.5); padding: .6rem .75rem;
}
`;

// ---------------------------------------------------------------------------
// What the server's answers mean to a shopper.

// Codes with which the server refuses this page, key or store: retrying cannot help.
const REFUSALS = new Set(['unauthorized', 'forbidden', 'origin_not_allowed', 'unknown_store']);

const REFUSAL_TEXT = {
  origin_not_allowed: 'Recommendations are not enabled for this website.',
  unauthorized: 'Recommendations are not available: the store key is missing or no longer valid.',
  forbidden: 'Recommendations are not available: this key does not belong to the store.',
  unknown_store: 'Recommendations are not available: the store does not exist.',
  bad_filter: 'Recommendations are not available: the widget\'s filters do not fit this store.',
  bad_filters: 'Recommendations are not available: the widget\'s filters attribute is not valid.',
  bad_field: 'Recommendations are not available: the widget is not set up correctly.',
  bad_request: 'Recommendations are not available: the widget is not set up correctly.',
  bad_server: 'Recommendations are not available: the widget\'s server attribute is not an http(s) address.',
  bad_href: 'The widget\'s href attribute does not make an http(s) link; products are shown without links.',
};

// Codes that say the merchant's attributes are wrong (filters, k, product,
// server): a configuration error, shown once and not retried until they change.
const CONFIG_ERRORS = new Set(['bad_filters', 'bad_filter', 'bad_field', 'bad_request', 'bad_server']);

const ERROR_TEXT = {
  rate_limited: 'Too many requests just now; wait a moment and try again.',
  storage_unavailable: 'Your vote could not be saved just now; try again in a little while.',
  session_full: 'This session is full: press Start over to keep going.',
  too_many_sessions: 'The store is very busy; try again later.',
  nothing_to_undo: 'There is nothing to undo.',
  internal: 'Something went wrong on the server; try again.',
};

// Capped at 5 s: a shopper whose server is back should not wait long for it.
const RECONNECT_MS = [250, 500, 1000, 2000, 4000, 5000];
const LIKED_MAX = 24;

export class MorelikeRecs extends HTMLElement {
  static get observedAttributes() { return ['store', 'product', 'k', 'server', 'key', 'filters', 'href']; }

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = STYLE;
    const el = (tag, cls, attrs = {}) => {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      return e;
    };
    this._notice = el('div', 'notice', { hidden: '' });
    const bar = el('div', 'bar');
    this._status = el('p', 'status', { role: 'status', 'aria-live': 'polite' });
    const tools = el('div', 'tools', { role: 'toolbar', 'aria-label': 'Recommendations' });
    this._tools = {};
    for (const [name, label, title] of [
      ['undo', 'Undo', 'Take back your last vote'],
      ['reset', 'Start over', 'Forget every vote and start again from this product'],
      ['more', 'More', 'Show more products without voting'],
    ]) {
      const b = el('button', `tool ${name}`, { type: 'button', title });
      b.dataset.tool = name;
      b.textContent = label;
      b.disabled = true;
      b.addEventListener('click', () => this._tool(name));
      tools.append(b);
      this._tools[name] = b;
    }
    bar.append(this._status, tools);
    this._likedBox = el('section', 'liked', { 'aria-label': 'You liked', hidden: '' });
    const likedTitle = el('h3');
    likedTitle.textContent = 'You liked';
    this._likedList = el('ul');
    this._likedBox.append(likedTitle, this._likedList);
    this._grid = el('ul', 'grid', { 'aria-label': 'Recommended products' });
    this.shadowRoot.append(style, this._notice, bar, this._likedBox, this._grid);

    this._socket = null;
    this._session = null;
    this._round = 0;
    this._votes = []; // every vote this widget knows the session holds: {id, vote, round}
    this._liked = []; // the liked products, for the strip: {id, name, image, attributes}
    this._pending = new Map();
    this._nextId = 1;
    this._epoch = 0; // bumped when the product changes: answers of older epochs are dropped
    this._attempt = 0;
    this._closed = true;
    this._online = false;
    this._refused = null;
    this._empty = false;
    this._dormant = false;
    this._queued = null;
    this._retryTimer = null;
    this._loaded = [null, null];
    // After an idle close, the next sign of the shopper reconnects.
    const wake = () => this._wake();
    for (const type of ['pointerenter', 'focusin', 'touchstart']) this.addEventListener(type, wake, { passive: true });
    this._onVisible = () => { if (document.visibilityState === 'visible') this._wake(); };
    this._onOnline = () => this._retryNow();
  }

  connectedCallback() {
    this._closed = false;
    document.addEventListener('visibilitychange', this._onVisible);
    window.addEventListener('online', this._onOnline);
    this._switch();
  }

  disconnectedCallback() {
    this._closed = true;
    document.removeEventListener('visibilitychange', this._onVisible);
    window.removeEventListener('online', this._onOnline);
    clearTimeout(this._retryTimer);
    const socket = this._socket;
    this._socket = null;
    this._online = false;
    if (socket) socket.close();
  }

  attributeChangedCallback(name, old, value) {
    // While the element is parsed or upgraded, connectedCallback reads
    // every attribute; later, only a real change loads another session.
    if (old === value || this._closed) return;
    if (name === 'href') { this._relink(); return; }
    const [connection, session] = this._identity();
    if (connection !== this._loaded[0]) {
      const wasRefused = this._refused;
      this._clearRefusal();
      this._switch({ reconnect: true, wasRefused });
    } else if (session !== this._loaded[1]) {
      this._switch();
    }
  }

  /** What a socket depends on, and what a session depends on. */
  _identity() {
    const read = (names) => JSON.stringify(names.map((a) => this.getAttribute(a)));
    return [read(['store', 'server', 'key']), read(['product', 'filters', 'k'])];
  }

  /** The refusal the server answered with (`{code, message}`), or null. */
  get refusal() { return this._refused; }

  /** The current session id (keep it to resume elsewhere). */
  get session() { return this._session; }

  /**
   * The session's votes, oldest first, as the server's answers left them
   * (after resume, undo and Start over too): `[{product, vote, name, round}]`.
   */
  get votes() {
    return this._votes.map((v) => ({ product: v.id, vote: v.vote, name: v.name || null, round: v.round }));
  }

  /** Starts a new session from the `product` attribute (the stored one is forgotten). */
  restart() {
    this._forget();
    this._switch();
  }

  // --- the session for the current attributes -------------------------------

  _storageKey() {
    const parts = ['store', 'product', 'filters', 'k'].map((a) => this.getAttribute(a) || '');
    return `morelike:${parts.join(':')}`;
  }

  _remember() {
    const saved = { session: this._session, votes: this._votes, liked: this._liked };
    try { sessionStorage.setItem(this._storageKey(), JSON.stringify(saved)); } catch (_) { /* private mode, full */ }
  }

  _forget() { try { sessionStorage.removeItem(this._storageKey()); } catch (_) { /* private mode */ } }

  _recall() {
    let text = null;
    try { text = sessionStorage.getItem(this._storageKey()); } catch (_) { return null; }
    if (!text) return null;
    try {
      const saved = JSON.parse(text);
      if (saved && typeof saved.session === 'string') {
        return {
          session: saved.session,
          votes: Array.isArray(saved.votes) ? saved.votes : [],
          liked: Array.isArray(saved.liked) ? saved.liked : [],
        };
      }
    } catch (_) { /* an id saved by an older widget */ }
    return { session: text, votes: [], liked: [] };
  }

  /** Loads the session for the current product and filters: resumed when one is stored, else started. */
  _switch({ reconnect = false, wasRefused = false } = {}) {
    if (this._closed) return;
    this._loaded = this._identity();
    this._epoch += 1;
    this._pending.clear();
    this._queued = null;
    this._empty = false;
    this._items = null;
    if (this._refused && CONFIG_ERRORS.has(this._refused.code)) this._clearRefusal();
    this._hideNotice();
    delete this.dataset.state;
    const saved = this._recall();
    this._session = saved ? saved.session : null;
    this._votes = saved ? saved.votes : [];
    this._liked = saved ? saved.liked : [];
    this._round = 0;
    this._renderLiked();
    this._grid.replaceChildren();
    const parsed = parseFilters(this.getAttribute('filters'));
    this._filters = parsed.filters;
    if (parsed.error) {
      this._configError({ code: 'bad_filters', field: 'filters', message: parsed.error });
      return;
    }
    this._checkHref();
    if (reconnect && this._socket) {
      // Another store, server or key: a new socket (the old one's close is no loss).
      const old = this._socket;
      this._socket = null;
      this._online = false;
      old.close();
    }
    if (this._socket && this._socket.readyState === WebSocket.OPEN) this._open();
    else if (!this._socket || wasRefused) this._connect();
  }

  /** The socket is open: resume the stored session, or start one. */
  _open() {
    this._setBusy(false);
    if (this._session) this._send({ type: 'resume', session: this._session });
    else this._start();
  }

  _start() {
    const text = (this.getAttribute('k') || '').trim();
    if (text && !/^[0-9]+$/.test(text)) {
      // The server says which numbers it takes; a word is never silently 8.
      this._configError({ code: 'bad_field', field: 'k', message: `k="${text}" is not a whole number: write the products per page, like k="8"` });
      return;
    }
    const message = { type: 'start', seed: this.getAttribute('product'), k: text ? Number(text) : 8 };
    if (this._filters) message.filters = this._filters;
    this._send(message);
  }

  // --- the socket -----------------------------------------------------------

  /** The socket's address; throws when the `server` attribute is not an http(s) address. */
  _url() {
    const store = encodeURIComponent(this.getAttribute('store') || 'demo');
    const server = this.getAttribute('server');
    let base;
    try { base = new URL(server || location.origin, location.href); } catch (_) { base = null; }
    if (!base || (base.protocol !== 'http:' && base.protocol !== 'https:')) {
      throw new Error(server
        ? `server="${server}" is not an http(s) address: write where morelike runs, like server="https://recs.example.com"`
        : `this page (${location.origin}) is not served over http(s): set server="https://…" to where morelike runs`);
    }
    base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    base.pathname = `${base.pathname.replace(/\/$/, '')}/v1/stores/${store}/ws`;
    const key = this.getAttribute('key');
    if (key) base.searchParams.set('key', key);
    return base.toString();
  }

  _wake() {
    if (!this._dormant || this._closed) return;
    this._dormant = false;
    this._waking = true;
    if (!this._socket) this._connect();
  }

  _retryNow() {
    if (this._closed || this._refused || this._socket || this._dormant) return;
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
    this._connect();
  }

  _connect() {
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
    if (this._closed || this._refused || this._empty || !this.getAttribute('product')) return;
    this._dormant = false;
    if (!this._attempt) this._say('Loading…');
    let socket;
    try {
      socket = new WebSocket(this._url());
    } catch (e) {
      this._configError({ code: 'bad_server', field: 'server', message: e.message });
      return;
    }
    this._socket = socket;
    socket.onopen = () => {
      this._attempt = 0;
      this._online = true;
      this._waking = false;
      this._hideNotice();
      this._open();
    };
    socket.onmessage = (event) => this._receive(event.data);
    socket.onclose = (event) => {
      if (this._socket !== socket) return;
      this._socket = null;
      this._online = false;
      this._waking = false;
      // Votes sent but not answered: the resumed page tells whether they counted.
      this._unanswered = [...this._pending.values()].filter((r) => r.type === 'vote' && r.epoch === this._epoch);
      this._pending.clear();
      this._setBusy(false);
      if (this._closed || this._refused) return;
      if (event.code === 1008) {
        // Refused (the error frame before it said why, unless it was lost).
        this._refuse({ code: event.reason || 'forbidden', message: '' });
        return;
      }
      if (this._empty) return;
      if (event.code === 1000 && event.reason === 'idle') {
        // Closed for silence: reconnect when the shopper is back. Votes stay
        // enabled; a click wakes the socket and is sent once the session is back.
        this._dormant = true;
        this._attempt = 0;
        this._setBusy(false);
        return;
      }
      const wait = RECONNECT_MS[Math.min(this._attempt, RECONNECT_MS.length - 1)] * (0.8 + Math.random() * 0.4);
      this._attempt += 1;
      this._queued = null; // a vote is never sent later behind the shopper's back
      this._showReconnecting(wait);
      this._retryTimer = setTimeout(() => this._connect(), wait);
    };
  }

  _send(message) {
    if (!this._socket || this._socket.readyState !== WebSocket.OPEN) return null;
    const id = this._nextId++;
    this._pending.set(id, { ...message, epoch: this._epoch, sent: performance.now(), round: this._round });
    this._socket.send(JSON.stringify({ v: 1, id, ...message }));
    this._setBusy(true);
    return id;
  }

  /**
   * Tells the server the shopper opened a shown product (the store's
   * `clicks`), before the link is followed: the frame is handed to the
   * socket at once, and its answer is not waited for.
   */
  _sendClick(product) {
    if (!this._socket || this._socket.readyState !== WebSocket.OPEN) return;
    this._socket.send(JSON.stringify({ v: 1, type: 'click', product }));
  }

  // --- answers --------------------------------------------------------------

  _receive(text) {
    let reply;
    try { reply = JSON.parse(text); } catch (_) { return; }
    const request = this._pending.get(reply.id);
    this._pending.delete(reply.id);
    if (this._pending.size === 0) this._setBusy(false);
    if (reply.type === 'error' && REFUSALS.has(reply.code) && reply.id == null) {
      this._refuse(reply);
      return;
    }
    if (!request || request.epoch !== this._epoch) return; // an answer for another product
    const rtt = performance.now() - request.sent;
    if (reply.type === 'page') this._page(reply, request, rtt);
    else if (reply.type === 'error') this._error(reply, request);
  }

  _page(reply, request, rtt) {
    this._session = reply.session;
    this._round = reply.round;
    if (request.type === 'resume' && this._unanswered) {
      // A vote whose answer the dropped socket lost counted if the session went on past it.
      for (const lost of this._unanswered) if (reply.round > lost.round) this._confirm(reply, lost);
    }
    this._unanswered = null;
    this._confirm(reply, request);
    this._remember();
    const unliked = this._refocus === 'unlike';
    this._render(reply.items);
    this._renderLiked();
    if (unliked) {
      // The pressed undo is gone with its like: the next like's undo, else the page.
      const next = this._likedList.querySelector('button.unlike') || this._grid.querySelector('button.vote');
      if (next) next.focus();
    }
    this._hideNotice();
    const n = reply.items.length;
    const what = {
      resume: 'Welcome back: your session goes on where you left it.',
      undo: 'Vote taken back.',
      reset: 'Started over.',
    }[request.type] || '';
    const shown = n ? `${n} product${n === 1 ? '' : 's'} shown.` : 'No more products to show.';
    this._say(what ? `${what} ${shown}` : shown);
    this._emit('morelike:page', {
      session: reply.session, round: reply.round, items: reply.items,
      took_us: reply.took_us, rtt_ms: rtt, resumed: !!reply.resumed, request: request.type,
    });
    this._emitVotes();
    if (this._queued && this._pending.size === 0) {
      const queued = this._queued;
      this._queued = null;
      this._castVote(queued.item, queued.vote);
    }
  }

  /** What the answered request changed in the votes the widget keeps. */
  _confirm(reply, request) {
    if (request.type === 'vote') {
      const { item, vote, round } = request.cast;
      this._votes = this._votes.filter((v) => !(v.id === item.id && v.round === round));
      this._votes.push({ id: item.id, vote, round, name: item.name });
      this._liked = this._liked.filter((l) => l.id !== item.id);
      if (vote === 'up') {
        this._liked.push({ id: item.id, name: item.name, image: item.image || null, attributes: item.attributes || {} });
        if (this._liked.length > LIKED_MAX) this._liked.shift();
      }
    } else if (request.type === 'undo') {
      let gone;
      if (request.product) gone = (v) => v.id === request.product;
      else {
        const last = Math.max(...this._votes.map((v) => v.round));
        gone = (v) => v.round === last;
      }
      const taken = new Set(this._votes.filter(gone).map((v) => v.id));
      this._votes = this._votes.filter((v) => !gone(v));
      const stillUp = new Set(this._votes.filter((v) => v.vote === 'up').map((v) => v.id));
      this._liked = this._liked.filter((l) => !taken.has(l.id) || stillUp.has(l.id));
    } else if (request.type === 'reset' || request.type === 'start') {
      this._votes = [];
      this._liked = [];
    }
  }

  _error(reply, request) {
    if (request.type === 'start' && CONFIG_ERRORS.has(reply.code)) {
      // The merchant's k, product or filters: the server's message says what to fix.
      this._configError({ code: reply.code, field: reply.field, message: reply.message });
      return;
    }
    this._emit('morelike:error', { code: reply.code, message: reply.message });
    if (request.type === 'resume' && reply.code === 'unknown_session') {
      // The session expired or belongs elsewhere: start afresh.
      this._forget();
      this._session = null;
      this._votes = [];
      this._liked = [];
      this._renderLiked();
      this._start();
      return;
    }
    if (request.type === 'start' && reply.code === 'unknown_product') {
      this._showEmpty();
      return;
    }
    if (request.type === 'undo' && reply.code === 'nothing_to_undo') {
      // The session holds no such vote (undone in another tab): the widget agrees.
      this._confirm({}, request.product ? request : { type: 'reset' });
      this._remember();
      this._renderLiked();
      this._emitVotes();
    }
    this._say(ERROR_TEXT[reply.code] || `Something went wrong (${reply.code}); try again.`);
    this._setBusy(false);
  }

  // --- the shopper's actions -------------------------------------------------

  _vote(item, vote) {
    if (this._busy || this._refused) return;
    // Disabling the buttons drops focus: remember to give it back on the next page.
    this._refocus = this.shadowRoot.activeElement != null ? 'vote' : null;
    if (!this._castVote(item, vote) && (this._dormant || this._waking)) {
      // Asleep after an idle close, or waking up: the vote goes once the
      // session is back (and is reported only then).
      this._queued = { item, vote };
      this._say('Sending your vote…');
      this._wake();
    }
  }

  /** Sends a vote; true only when it went out on an open socket. */
  _castVote(item, vote) {
    const sent = this._send({ type: 'vote', product: item.id, vote });
    if (sent == null) return false;
    this._pending.get(sent).cast = { item, vote, round: this._round };
    this._emit('morelike:vote', { product: item.id, vote, session: this._session, name: item.name });
    return true;
  }

  _tool(name) {
    if (this._busy || !this._online || this._refused || this._empty) return;
    this._refocus = this.shadowRoot.activeElement != null ? name : null;
    if (name === 'undo') this._send({ type: 'undo' });
    else if (name === 'reset') this._send({ type: 'reset' });
    else if (name === 'more') this._send({ type: 'more' });
  }

  _unlike(product) {
    if (this._busy || !this._online) return;
    this._refocus = this.shadowRoot.activeElement != null ? 'unlike' : null;
    const id = this._send({ type: 'undo', product });
    if (id != null) this._pending.get(id).product = product;
  }

  // --- drawing --------------------------------------------------------------

  _render(items) {
    const grid = this._grid;
    this._items = items;
    const refocus = this._refocus;
    this._refocus = null;
    grid.replaceChildren();
    for (const item of items) grid.append(this._card(item));
    this._setBusy(this._busy);
    // Keyboard shoppers stay where they were: the new page's first vote, or the tool they used.
    if (refocus === 'vote') {
      const first = grid.querySelector('button.vote');
      if (first) first.focus();
    } else if (refocus && this._tools[refocus]) {
      this._tools[refocus].focus();
    }
  }

  _card(item) {
    const li = document.createElement('li');
    li.className = 'card';
    li.dataset.product = item.id;
    const attributes = item.attributes || {};
    const link = productLink(this.getAttribute('href'), item);
    const picture = document.createElement(link ? 'a' : 'button');
    picture.className = 'picture';
    if (link) picture.href = link; else picture.type = 'button';
    picture.setAttribute('aria-label', `Open ${item.name}`);
    const image = safeImage(item.image);
    if (image) {
      picture.classList.add('has-image', 'loading');
      const img = document.createElement('img');
      img.alt = item.name;
      img.loading = 'lazy';
      img.decoding = 'async';
      img.onload = () => { picture.classList.remove('loading'); picture.classList.add('loaded'); };
      img.onerror = () => {
        img.remove();
        picture.classList.remove('has-image', 'loading');
        this._paint(picture, attributes);
      };
      img.src = image;
      picture.append(img);
    } else {
      this._paint(picture, attributes);
    }
    const opened = () => {
      this._sendClick(item.id);
      this._emit('morelike:click', { product: item.id, name: item.name, session: this._session, href: link });
    };
    picture.addEventListener('click', opened);
    const body = document.createElement('div');
    body.className = 'body';
    const name = document.createElement('p');
    name.className = 'name';
    if (link) {
      const a = document.createElement('a');
      a.href = link;
      a.textContent = item.name;
      a.tabIndex = -1; // the picture is the link for keyboards; one stop per card
      a.addEventListener('click', () => this._sendClick(item.id));
      name.append(a);
    } else {
      name.textContent = item.name;
    }
    body.append(name);
    if (item.price != null) {
      const price = document.createElement('span');
      price.className = 'price';
      price.textContent = this._price(item.price);
      body.append(price);
    }
    const actions = document.createElement('div');
    actions.className = 'actions';
    for (const [vote, label] of [['up', 'More Like This'], ['down', 'Not My Style']]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `vote ${vote}`;
      b.textContent = label;
      b.dataset.vote = vote;
      b.setAttribute('aria-label', `${label}: ${item.name}`);
      b.addEventListener('click', () => this._vote(item, vote));
      actions.append(b);
    }
    body.append(actions);
    li.append(picture, body);
    return li;
  }

  /** A placeholder: the kind's shape in the product's colour, and the kind as text. */
  _paint(picture, attributes) {
    const svg = placeholderSvg(attributes);
    const label = document.createElement('span');
    label.className = 'kind';
    const colour = firstOf(attributes, COLOUR_FIELDS);
    label.textContent = [colour, kindOf(attributes)].filter(Boolean).join(' · ');
    picture.append(svg, label);
  }

  /** The "You liked" strip, newest first (the newest stay in view on a narrow strip). */
  _renderLiked() {
    const list = this._likedList;
    const newest = this._liked.length ? this._liked[this._liked.length - 1].id : null;
    list.replaceChildren();
    for (const item of [...this._liked].reverse()) {
      const li = document.createElement('li');
      li.dataset.product = item.id;
      const thumb = document.createElement('span');
      thumb.className = 'thumb';
      const image = safeImage(item.image);
      if (image) {
        const img = document.createElement('img');
        img.src = image;
        img.alt = '';
        img.onerror = () => img.replaceWith(placeholderSvg(item.attributes || {}));
        thumb.append(img);
      } else {
        thumb.append(placeholderSvg(item.attributes || {}));
      }
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = item.name;
      label.title = item.name;
      const undo = document.createElement('button');
      undo.type = 'button';
      undo.className = 'unlike';
      undo.textContent = 'Undo';
      undo.setAttribute('aria-label', `Undo your like of ${item.name}`);
      undo.addEventListener('click', () => this._unlike(item.id));
      li.append(thumb, label, undo);
      list.append(li);
    }
    this._likedBox.hidden = this._liked.length === 0;
    // A new like scrolls the strip back to its start, where it is.
    if (newest !== this._likedNewest) list.scrollLeft = 0;
    this._likedNewest = newest;
    this._setBusy(this._busy);
  }

  /** The `href` template changed: draw the cards on show again with the new links. */
  _relink() {
    this._checkHref();
    if (this._items) this._render(this._items);
  }

  _checkHref() {
    const template = this.getAttribute('href');
    if (template && !productLink(template, { id: 'x', name: 'x', attributes: {} })) {
      console.error(`<morelike-recs>: href="${template}" does not make an http(s) link; products are shown without links`);
    }
  }

  _price(value) {
    const currency = this.getAttribute('currency');
    try {
      return currency
        ? new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(value)
        : new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(value);
    } catch (_) { return String(value); }
  }

  /** Enables what the shopper may press now: nothing while busy or offline. */
  _setBusy(busy) {
    this._busy = busy;
    const usable = !busy && !this._refused && !this._empty && (this._online || this._dormant || this._waking);
    for (const b of this.shadowRoot.querySelectorAll('button.vote')) b.disabled = !usable;
    const live = usable && this._online;
    this._tools.undo.disabled = !live || this._votes.length === 0;
    this._tools.reset.disabled = !live || this._round === 0 || (this._round <= 1 && this._votes.length === 0);
    this._tools.more.disabled = !live || this._round === 0;
    for (const b of this._likedList.querySelectorAll('button.unlike')) b.disabled = !live;
    this._grid.setAttribute('aria-busy', String(busy));
    if (this._refused) this.dataset.state = CONFIG_ERRORS.has(this._refused.code) ? 'error' : 'refused';
    else if (this._empty) this.dataset.state = 'empty';
    else if (!this._online && !this._dormant && !this._closed && this._attempt > 0) this.dataset.state = 'reconnecting';
    else if (busy) this.dataset.state = 'busy';
    else if (this._dormant) this.dataset.state = 'asleep';
    else if (this._online) this.dataset.state = 'ready';
    else delete this.dataset.state;
  }

  _showReconnecting(wait) {
    const notice = this._notice;
    notice.className = 'notice reconnecting';
    notice.setAttribute('role', 'status');
    const text = document.createElement('span');
    text.textContent = `Connection lost: reconnecting in ${Math.max(1, Math.round(wait / 1000))} s… Votes are paused until it is back.`;
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.textContent = 'Retry now';
    retry.addEventListener('click', () => this._retryNow());
    notice.replaceChildren(text, retry);
    notice.hidden = false;
    this._say('Reconnecting…');
    this._setBusy(false);
  }

  _showEmpty() {
    this._empty = true;
    this._forget();
    this._session = null;
    this._votes = [];
    this._liked = [];
    this._round = 0;
    this._grid.replaceChildren();
    this._renderLiked();
    this._emitVotes();
    const notice = this._notice;
    notice.className = 'notice empty';
    notice.setAttribute('role', 'status');
    const title = document.createElement('strong');
    title.textContent = 'No recommendations for this product';
    const text = document.createElement('span');
    text.textContent = `The store has no product “${this.getAttribute('product')}”, so there is nothing similar to show.`;
    notice.replaceChildren(title, text);
    notice.hidden = false;
    this._say('');
    this._setBusy(false);
  }

  _hideNotice() {
    if (this._empty) return;
    this._notice.hidden = true;
    this._notice.replaceChildren();
  }

  _refuse({ code, message, field }) {
    this._refused = field ? { code, message, field } : { code, message };
    this._grid.replaceChildren();
    this._status.classList.add('refused');
    const headline = REFUSAL_TEXT[code] || 'Recommendations are not available.';
    this._status.textContent = message ? `${headline} (${code}: ${message})` : `${headline} (${code})`;
    this._setBusy(false);
    this._emit('morelike:error', { ...this._refused });
  }

  /**
   * A mistake in the merchant's attributes: said once, with what to fix, in
   * the status line, the console, `refusal` and `morelike:error`, and
   * `data-state="error"`; nothing is retried until an attribute changes.
   */
  _configError({ code, message, field }) {
    console.error(`<morelike-recs>: ${message}`);
    this._refuse({ code, message, field });
  }

  /** Tells the page the session's votes (`morelike:votes`), after every answer that may change them. */
  _emitVotes() {
    this._emit('morelike:votes', { session: this._session, votes: this.votes });
  }

  _clearRefusal() {
    this._refused = null;
    this._status.classList.remove('refused');
    delete this.dataset.state;
  }

  _say(text) { this._status.textContent = text; }

  _emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true })); }
}

if (!customElements.get('morelike-recs')) customElements.define('morelike-recs', MorelikeRecs);
