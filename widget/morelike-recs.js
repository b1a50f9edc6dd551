// <morelike-recs>: the morelike widget. One ES module, no dependencies.
//
//   <script type="module" src="https://your-morelike/widget/morelike-recs.js"></script>
//   <morelike-recs store="demo" product="15970" key="pk_..."></morelike-recs>
//
// It opens a WebSocket to the morelike server, shows a grid of products
// similar to `product`, and on each card offers "More Like This" and
// "Not My Style"; the next page comes from every vote so far. When the socket
// drops it reconnects and resumes the session. It emits DOM events for the
// merchant's own analytics: morelike:vote, morelike:click, morelike:page,
// morelike:error.
//
// It never builds HTML from catalog data: names, ids and prices go in as text
// and attributes, and only http(s) image URLs are loaded. When the server
// refuses the key, the page's origin or the store, the widget says so and
// stops retrying.

const COLOURS = {
  black: '#1f1f1f', white: '#f4f4f4', grey: '#8a8a8a', gray: '#8a8a8a', silver: '#c0c0c0',
  charcoal: '#36454f', navy: '#1f2f5c', 'navy blue': '#1f2f5c', blue: '#2f6fd0', 'turquoise blue': '#30b5c8',
  teal: '#22808a', green: '#2f8f4e', 'sea green': '#2e8b57', olive: '#73772f', 'lime green': '#7ccd3c',
  'fluorescent green': '#8df24a', yellow: '#f2c431', 'mustard': '#d1a12a', gold: '#d4af37', orange: '#f07c2a',
  'rust': '#b7410e', red: '#d03b3b', maroon: '#7a1f2b', 'burgundy': '#800020', pink: '#f08cb4', magenta: '#c8307e',
  'rose': '#e8a0a8', purple: '#7a3fa0', lavender: '#b9a6e0', 'mauve': '#b784a7', beige: '#e3d3b4', cream: '#f3ead3',
  'off white': '#f1ede4', khaki: '#b8a76b', brown: '#7b4a2a', 'coffee brown': '#5a3a22', tan: '#c49a6c',
  'skin': '#e8c0a0', nude: '#e3bc9a', peach: '#f5b38d', copper: '#b87333', bronze: '#a97142', 'steel': '#7b8a99',
  'metallic': '#a8a9ad', 'taupe': '#8b7d6b', 'mushroom brown': '#9b8469', 'grey melange': '#a3a3a3',
};
const COLOUR_FIELDS = ['baseColour', 'colour', 'color', 'Colour', 'Color'];
const KIND_FIELDS = ['articleType', 'aisle', 'subCategory', 'category', 'type', 'department'];

function hashHue(text) {
  let h = 0;
  for (const c of text) h = (h * 31 + c.codePointAt(0)) >>> 0;
  return h % 360;
}

function placeholderColour(attributes) {
  for (const f of COLOUR_FIELDS) {
    const v = attributes[f];
    if (v && COLOURS[v.toLowerCase()]) return COLOURS[v.toLowerCase()];
  }
  const kind = KIND_FIELDS.map((f) => attributes[f]).find(Boolean) || '';
  return `hsl(${hashHue(kind)} 45% 62%)`;
}

function kindOf(attributes) {
  return KIND_FIELDS.map((f) => attributes[f]).find(Boolean) || '';
}

function readableOn(colour) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (!m) return '#1b1b1b';
  const [r, g, b] = m.slice(1).map((x) => parseInt(x, 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? '#1b1b1b' : '#ffffff';
}

const STYLE = `
:host {
  display: block;
  font-family: var(--morelike-font, system-ui, -apple-system, "Segoe UI", sans-serif);
  color: var(--morelike-fg, #1b1b1b);
  --_accent: var(--morelike-accent, #2f5bd3);
  --_radius: var(--morelike-radius, 12px);
  --_bg: var(--morelike-card-bg, #ffffff);
}
.status { font-size: .85rem; color: var(--morelike-muted, #666); min-height: 1.2em; margin: 0 0 .5rem; }
.grid {
  display: grid; gap: var(--morelike-gap, 14px);
  grid-template-columns: repeat(auto-fill, minmax(var(--morelike-card-min, 160px), 1fr));
  list-style: none; margin: 0; padding: 0;
}
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
@media (prefers-reduced-motion: reduce) { .card { animation: none } }
.picture {
  aspect-ratio: 4 / 5; display: flex; align-items: flex-end; justify-content: flex-start;
  background-size: cover; background-position: center; border: 0; padding: .6rem; margin: 0;
  font: inherit; font-size: .8rem; font-weight: 600; letter-spacing: .02em; text-transform: uppercase;
  cursor: pointer; text-align: left; width: 100%;
}
.picture img { width: 100%; height: 100%; object-fit: cover; }
.picture.has-image { padding: 0; }
.body { padding: .6rem .7rem .7rem; display: flex; flex-direction: column; gap: .35rem; flex: 1; }
.name { font-size: .9rem; line-height: 1.25; margin: 0; flex: 1; }
.price { font-weight: 650; font-size: .9rem; }
.actions { display: grid; grid-template-columns: 1fr 1fr; gap: .4rem; }
button.vote {
  font: inherit; font-size: .78rem; padding: .45rem .3rem; border-radius: calc(var(--_radius) / 1.5);
  border: 1px solid var(--_accent); cursor: pointer; background: transparent; color: var(--_accent);
  min-height: 2.2rem;
}
button.vote.up { background: var(--_accent); color: var(--morelike-accent-fg, #fff); }
button.vote:hover { filter: brightness(1.08); }
button:focus-visible, .picture:focus-visible { outline: 3px solid var(--morelike-focus, #f2a900); outline-offset: 2px; }
button.vote[disabled] { opacity: .55; cursor: progress; }
.status.refused {
  color: var(--morelike-error, #8c1d18); background: var(--morelike-error-bg, #fdecea);
  border-radius: calc(var(--_radius) / 1.5); padding: .6rem .75rem;
}
`;

// Codes with which the server refuses this page, key or store: retrying cannot help.
const REFUSALS = new Set(['unauthorized', 'forbidden', 'origin_not_allowed', 'unknown_store']);

const REFUSAL_TEXT = {
  origin_not_allowed: 'Recommendations are not enabled for this website.',
  unauthorized: 'Recommendations are not available: the store key is missing or no longer valid.',
  forbidden: 'Recommendations are not available: this key does not belong to the store.',
  unknown_store: 'Recommendations are not available: the store does not exist.',
};

/** An image URL the widget will load: http(s) only (never javascript: or data:). */
export function safeImage(url) {
  if (typeof url !== 'string' || !url) return null;
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch (_) {
    return null;
  }
}

const RECONNECT_MS = [250, 500, 1000, 2000, 4000];

export class MorelikeRecs extends HTMLElement {
  static get observedAttributes() { return ['store', 'product', 'k', 'server', 'key']; }

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = STYLE;
    this._status = document.createElement('p');
    this._status.className = 'status';
    this._status.setAttribute('role', 'status');
    this._status.setAttribute('aria-live', 'polite');
    this._grid = document.createElement('ul');
    this._grid.className = 'grid';
    this._grid.setAttribute('aria-label', 'Recommended products');
    this.shadowRoot.append(style, this._status, this._grid);
    this._socket = null;
    this._session = null;
    this._pending = new Map();
    this._nextId = 1;
    this._attempt = 0;
    this._closed = true;
    this._busy = false;
    this._refused = null;
    this._dormant = false;
    // After an idle close, the next sign of the shopper reconnects.
    const wake = () => this._wake();
    for (const type of ['pointerenter', 'focusin', 'touchstart']) this.addEventListener(type, wake, { passive: true });
    this._onVisible = () => { if (document.visibilityState === 'visible') this._wake(); };
  }

  connectedCallback() {
    this._closed = false;
    document.addEventListener('visibilitychange', this._onVisible);
    this._connect();
  }

  disconnectedCallback() {
    this._closed = true;
    document.removeEventListener('visibilitychange', this._onVisible);
    if (this._socket) this._socket.close();
  }

  attributeChangedCallback(name, old, value) {
    if (old === value || !this.isConnected) return;
    if (name === 'product') this.restart();
    else if (name === 'store' || name === 'server' || name === 'key') {
      this._session = null;
      const wasRefused = this._refused;
      this._clearRefusal();
      if (this._socket) this._socket.close();
      else if (wasRefused) this._connect();
    }
  }

  /** The refusal the server answered with (`{code, message}`), or null. */
  get refusal() { return this._refused; }

  /** The current session id (keep it to resume elsewhere). */
  get session() { return this._session; }

  /** Starts a new session from the `product` attribute. */
  restart() {
    this._session = null;
    this._forget();
    if (this._socket && this._socket.readyState === WebSocket.OPEN) this._start();
    else if (!this._socket) this._connect();
  }

  _storageKey() { return `morelike:${this.getAttribute('store')}:${this.getAttribute('product')}`; }
  _remember() { try { sessionStorage.setItem(this._storageKey(), this._session); } catch (_) { /* private mode */ } }
  _forget() { try { sessionStorage.removeItem(this._storageKey()); } catch (_) { /* private mode */ } }
  _recall() { try { return sessionStorage.getItem(this._storageKey()); } catch (_) { return null; } }

  _url() {
    const store = encodeURIComponent(this.getAttribute('store') || 'demo');
    const base = new URL(this.getAttribute('server') || location.origin, location.href);
    base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    base.pathname = `${base.pathname.replace(/\/$/, '')}/v1/stores/${store}/ws`;
    const key = this.getAttribute('key');
    if (key) base.searchParams.set('key', key);
    return base.toString();
  }

  _wake() {
    if (!this._dormant || this._closed) return;
    this._dormant = false;
    if (!this._socket) this._connect();
  }

  _connect() {
    if (this._closed || this._refused || !this.getAttribute('product')) return;
    this._dormant = false;
    this._say(this._attempt ? 'Reconnecting…' : 'Loading…');
    let socket;
    try {
      socket = new WebSocket(this._url());
    } catch (e) {
      this._refuse({ code: 'bad_server', message: `The server address is not valid: ${e.message}` });
      return;
    }
    this._socket = socket;
    socket.onopen = () => {
      this._attempt = 0;
      const known = this._session || this._recall();
      if (known) this._send({ type: 'resume', session: known });
      else this._start();
    };
    socket.onmessage = (event) => this._receive(event.data);
    socket.onclose = (event) => {
      if (this._socket !== socket) return;
      this._socket = null;
      this._pending.clear();
      this._setBusy(false);
      if (this._closed || this._refused) return;
      if (event.code === 1008) {
        // Refused (the error frame before it said why, unless it was lost).
        this._refuse({ code: event.reason || 'forbidden', message: '' });
        return;
      }
      if (event.code === 1000 && event.reason === 'idle') {
        // Closed for silence: reconnect when the shopper is back.
        this._dormant = true;
        this._attempt = 0;
        return;
      }
      const wait = RECONNECT_MS[Math.min(this._attempt, RECONNECT_MS.length - 1)];
      this._attempt += 1;
      this._say('Connection lost; reconnecting…');
      setTimeout(() => this._connect(), wait);
    };
  }

  _start() {
    const k = parseInt(this.getAttribute('k') || '8', 10);
    this._send({ type: 'start', seed: this.getAttribute('product'), k });
  }

  _send(message) {
    if (!this._socket || this._socket.readyState !== WebSocket.OPEN) return null;
    const id = this._nextId++;
    this._pending.set(id, { type: message.type, sent: performance.now() });
    this._socket.send(JSON.stringify({ v: 1, id, ...message }));
    this._setBusy(true);
    return id;
  }

  _receive(text) {
    let reply;
    try { reply = JSON.parse(text); } catch (_) { return; }
    const request = this._pending.get(reply.id);
    this._pending.delete(reply.id);
    if (this._pending.size === 0) this._setBusy(false);
    const rtt = request ? performance.now() - request.sent : null;
    if (reply.type === 'page') {
      this._session = reply.session;
      this._remember();
      this._render(reply.items);
      this._say(reply.items.length ? '' : 'No more products to show.');
      if (this._queued && this._pending.size === 0) {
        const queued = this._queued;
        this._queued = null;
        this._send(queued);
      }
      this._emit('morelike:page', {
        session: reply.session, round: reply.round, items: reply.items,
        took_us: reply.took_us, rtt_ms: rtt, resumed: !!reply.resumed, request: request && request.type,
      });
    } else if (reply.type === 'error') {
      if (REFUSALS.has(reply.code) && reply.id == null) {
        this._refuse(reply);
        return;
      }
      if (request && request.type === 'resume') {
        // The session expired or belongs elsewhere: start afresh.
        this._session = null;
        this._forget();
        this._start();
        return;
      }
      this._say(reply.message);
      this._emit('morelike:error', { code: reply.code, message: reply.message });
    }
  }

  _vote(item, vote) {
    if (this._busy) return;
    // Disabling the buttons drops focus: remember to give it back on the next page.
    this._refocus = this.shadowRoot.activeElement != null;
    this._emit('morelike:vote', { product: item.id, vote, session: this._session, name: item.name });
    const message = { type: 'vote', product: item.id, vote };
    if (!this._send(message)) {
      // Asleep or reconnecting: the vote goes once the session is back.
      this._queued = message;
      this._wake();
    }
  }

  _render(items) {
    const grid = this._grid;
    const hadFocus = this._refocus || this.shadowRoot.activeElement != null;
    this._refocus = false;
    grid.replaceChildren();
    for (const item of items) grid.append(this._card(item));
    // Keyboard shoppers stay on the grid: focus the new page's first button.
    const first = grid.querySelector('button.vote');
    if (first && hadFocus) first.focus();
  }

  _card(item) {
    const li = document.createElement('li');
    li.className = 'card';
    li.dataset.product = item.id;
    const picture = document.createElement('button');
    picture.className = 'picture';
    picture.type = 'button';
    picture.setAttribute('aria-label', `Open ${item.name}`);
    const attributes = item.attributes || {};
    const image = safeImage(item.image);
    if (image) {
      picture.classList.add('has-image');
      const img = document.createElement('img');
      img.src = image;
      img.alt = item.name;
      img.loading = 'lazy';
      img.onerror = () => { img.remove(); picture.classList.remove('has-image'); this._paint(picture, attributes); };
      picture.append(img);
    } else {
      this._paint(picture, attributes);
    }
    picture.addEventListener('click', () => this._emit('morelike:click', { product: item.id, name: item.name, session: this._session }));
    const body = document.createElement('div');
    body.className = 'body';
    const name = document.createElement('p');
    name.className = 'name';
    name.textContent = item.name;
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

  _paint(picture, attributes) {
    const colour = placeholderColour(attributes);
    picture.style.background = `linear-gradient(160deg, ${colour}, color-mix(in srgb, ${colour} 70%, #000))`;
    picture.style.color = readableOn(colour);
    picture.textContent = kindOf(attributes);
  }

  _price(value) {
    const currency = this.getAttribute('currency');
    try {
      return currency
        ? new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(value)
        : new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(value);
    } catch (_) { return String(value); }
  }

  _setBusy(busy) {
    this._busy = busy;
    for (const b of this.shadowRoot.querySelectorAll('button.vote')) b.disabled = busy;
  }

  _refuse({ code, message }) {
    this._refused = { code, message };
    this._grid.replaceChildren();
    this._status.classList.add('refused');
    this.dataset.state = 'refused';
    const headline = REFUSAL_TEXT[code] || 'Recommendations are not available.';
    this._status.textContent = message ? `${headline} (${code}: ${message})` : `${headline} (${code})`;
    this._emit('morelike:error', { code, message });
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
