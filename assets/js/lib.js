// Shared by every page: translated strings, a tiny DOM builder, API calls with the one
// error envelope, and the live event stream. No framework, no build step.

/** The page's strings, from the server-rendered catalog (locales/<lang>.json). */
export const strings = JSON.parse(document.getElementById('strings').textContent);
export const lang = document.documentElement.lang || 'en';

const plurals = new Intl.PluralRules(lang);

/**
 * The string for `key`, with `{name}` placeholders filled from `vars`; numbers are written
 * in the page's language. A key with plural forms has one string per category of the
 * language's plural rules (`key.one`, `key.other`, …, as `Intl.PluralRules` names them), and
 * the form for `vars.count` is used.
 */
export function t(key, vars) {
  let text = strings[key];
  if (text === undefined && vars && typeof vars.count === 'number') {
    text = strings[`${key}.${plurals.select(vars.count)}`] ?? strings[`${key}.other`];
  }
  text = text ?? key;
  if (vars) {
    for (const [name, value] of Object.entries(vars)) {
      text = text.replaceAll(`{${name}}`, typeof value === 'number' ? num(value) : String(value));
    }
  }
  return text;
}

/** A number in the page's language. */
export function num(value, digits = 0) {
  return Number(value).toLocaleString(lang, { maximumFractionDigits: digits });
}

/**
 * Builds an element: `h('button', {class: 'x', onclick: f, 'aria-label': 'y'}, 'text', child)`.
 * Text is always set as text, never parsed as HTML.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Text only screen readers read. */
export function srOnly(text) {
  return h('span', { class: 'sr-only' }, text);
}

const politeRegion = () => document.getElementById('announce') || document.body.appendChild(
  h('div', { id: 'announce', class: 'sr-only', 'aria-live': 'polite', role: 'status' }));

/** Says something to screen readers without moving focus. */
export function announce(text) {
  const region = politeRegion();
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

/** An error from the API, with the envelope's code and, for 429 and 503, how long to wait. */
export class ApiError extends Error {
  constructor(status, code, message, details, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
    this.retryAfter = retryAfter || null;
  }
}

/** Seconds from a `Retry-After` header (a number of seconds or an HTTP date), or null. */
function retryAfterOf(response) {
  const value = response.headers.get('retry-after');
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, (date - Date.now()) / 1000) : null;
}

/** Failures that waiting fixes: no network, busy (429), or a server that is away (502–504). */
export function isTransient(error) {
  return error instanceof ApiError && [0, 429, 502, 503, 504].includes(error.status);
}

/** Milliseconds to wait before trying again: `Retry-After` when given, else a growing
 * back-off, plus jitter so a room that was told to wait does not come back at once. */
export function backoff(error, attempt) {
  const told = error && error.retryAfter != null ? error.retryAfter * 1000 : null;
  const base = told ?? Math.min(8000, 500 * 2 ** attempt);
  return base + Math.random() * Math.max(500, base / 2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** After this long without a reply, an idempotent request is sent once more. */
export const HEDGE_MS = 600;

/**
 * Runs `call` (an idempotent request, such as an answer with its request id) and, if no
 * reply has come after `HEDGE_MS`, once more beside it; the first reply wins. On a lossy
 * network a lost packet holds one connection for a second or more, while the second request
 * travels on another. On a healthy network the reply comes long before.
 */
export function hedged(call, afterMs = HEDGE_MS) {
  return new Promise((resolve, reject) => {
    let settled = false;
    let started = 1;
    let failed = 0;
    let timer = null;
    const finish = (ok, value) => {
      if (settled) return;
      if (!ok && ++failed < started) return;
      settled = true;
      clearTimeout(timer);
      if (ok) resolve(value); else reject(value);
    };
    const run = () => call().then((v) => finish(true, v), (e) => finish(false, e));
    run();
    timer = setTimeout(() => {
      if (settled) return;
      started += 1;
      run();
    }, afterMs);
  });
}

/** How long an action may keep failing before the person is told. */
export const PATIENCE_MS = 30000;

/**
 * Runs `action` until it succeeds, waiting out transient failures (see `isTransient`) as
 * the server asks. `onWait(true)` is called while it waits and `onWait(false)` when it is
 * done; `onLate(error)` once the action has failed for more than 30 s. It stops and throws
 * on any other error, or after `giveUpMs` (never, by default: an answer is not dropped).
 */
export async function persist(action, { onWait = () => {}, onLate = () => {}, giveUpMs = Infinity } = {}) {
  const started = Date.now();
  let late = false;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result = await action();
      onWait(false);
      return result;
    } catch (error) {
      const waited = Date.now() - started;
      if (!isTransient(error) || waited > giveUpMs) {
        onWait(false);
        throw error;
      }
      onWait(true);
      if (!late && waited > PATIENCE_MS) {
        late = true;
        onLate(error);
      }
      await sleep(backoff(error, attempt));
    }
  }
}

/** Parts of a field path that only say where in the request a field sits. */
const WRAPPERS = new Set(['config', 'answer', 'args']);

/** The parts of a field path from the server that name fields (`questions[1]`, `correct`). */
export function fieldParts(path) {
  return String(path || '').split('.').filter((part) => part && !WRAPPERS.has(part));
}

/** `text` with its first letter in upper case, as the page's language writes it. */
export function capitalized(text) {
  return text.charAt(0).toLocaleUpperCase(lang) + text.slice(1);
}

/**
 * A field path from the server (`config.questions[1].choices[2]`, counted from zero) as
 * people say it in the page's language, counted from one: "Question 2, choice 3".
 */
export function fieldName(path) {
  const said = fieldParts(path).map((part) => {
    const [, name, index] = part.match(/^([a-z_]*)(?:\[(\d+)\])?$/) || [];
    if (name && index !== undefined && `field.${name}.nth` in strings) return t(`field.${name}.nth`, { n: Number(index) + 1 });
    if (name && `field.${name}` in strings) return t(`field.${name}`);
    return null;
  }).filter(Boolean);
  const text = said.length ? said.join(', ') : t('field.input');
  return capitalized(text);
}

/**
 * The human text for an API error in the page's language: a broken rule by its code with
 * the field as people say it, else the error's code. The server's English is never shown.
 */
export function errorText(error) {
  if (error instanceof ApiError) {
    const details = error.details || {};
    if (details.rule) return ruleText(details);
    const key = `error.${error.code}`;
    return t(key in strings ? key : 'error.error', details);
  }
  return t('error.network');
}

/** A broken rule (`{field, rule, params}`, as error details carry it) in the page's language. */
export function ruleText({ field, rule, params = {} }) {
  const short = `rule.${rule}_max`;
  const key = params.min === 0 && short in strings ? short : `rule.${rule}`;
  return t(key in strings ? key : 'error.invalid_field', {
    ...params,
    field: fieldName(field),
    other: params.other ? fieldName(params.other) : '',
    allowed: (params.allowed || []).join(', '),
  });
}

/** What to tell a person about `error`: the server's errors in the page's language. */
export function messageOf(error) {
  if (error && error.localized) return error.localized;
  if (error instanceof ApiError) return errorText(error);
  return (error && error.message) || String(error);
}

let csrf = null;

/** The CSRF token of the signed-in organizer (cookie sessions must send it when writing). */
async function csrfToken() {
  if (!csrf) await currentOrganizer();
  return csrf;
}

/** The signed-in organizer, or null. */
export async function currentOrganizer() {
  try {
    const me = await api('GET', '/auth/me');
    csrf = me.csrf_token;
    return me;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/**
 * Calls the API under /api/v1. `token` is a participant token (Bearer); without one the
 * organizer's login cookie is used, with the CSRF header on writes. With `contentType`, the
 * body is sent as it is (a CSV file); otherwise as JSON. Throws ApiError.
 */
export async function api(method, path, body, { token, raw, contentType } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = contentType || 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  else if (method !== 'GET' && path !== '/auth/login') {
    const token = await csrfToken();
    if (token) headers['x-csrf-token'] = token;
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined || contentType ? body : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const error = data && data.error ? data.error : { code: 'http_' + response.status, message: text };
    if (response.status === 401 && !token && !path.startsWith('/auth/')) {
      location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    }
    throw new ApiError(response.status, error.code, error.message, error.details, retryAfterOf(response));
  }
  return data;
}

/**
 * A fresh id for one user action, reused when that action is retried: a UUIDv7 (RFC 9562),
 * whose leading milliseconds make the server's request log grow at one end of its key
 * (docs/decisions/0011). `getRandomValues`, unlike `randomUUID`, works on plain http too.
 */
export function requestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i -= 1) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The difference between the server's clock and ours, learnt from `server_time`. */
export const clock = {
  offset: 0,
  sync(serverTime) {
    if (serverTime) this.offset = Date.parse(serverTime) - Date.now();
  },
  now() {
    return Date.now() + this.offset;
  },
  /** Milliseconds until an ISO time on the server's clock (never negative). */
  until(iso) {
    return iso ? Math.max(0, Date.parse(iso) - this.now()) : 0;
  },
};

/**
 * Applies a results delta (docs/realtime.md, "Results deltas") to `doc` in place; throws when
 * it does not fit. The same rules as `src/realtime/delta.rs`.
 */
export function applyDelta(doc, delta) {
  if ('replace' in delta) return delta.replace;
  for (const [field, value] of Object.entries(delta.set || {})) doc[field] = value;
  for (const field of delta.unset || []) delete doc[field];
  for (const [field, change] of Object.entries(delta.lists || {})) {
    const key = change.key;
    if (!Array.isArray(doc[field]) || !key) throw new Error(`no list ${field}`);
    const removed = new Set(change.remove || []);
    let items = doc[field].filter((item) => !removed.has(item[key]));
    const added = [];
    for (const entry of change.upsert || []) {
      const at = items.findIndex((item) => item[key] === entry[key]);
      if (at >= 0) items[at] = entry; else added.push(entry);
    }
    items = change.new_at === 'start' ? added.concat(items) : items.concat(added);
    if (change.order) {
      const byKey = new Map(items.map((item) => [item[key], item]));
      if (change.order.length !== byKey.size || change.order.some((k) => !byKey.has(k))) throw new Error(`order of ${field}`);
      items = change.order.map((k) => byKey.get(k));
    }
    doc[field] = items;
  }
  return doc;
}

/**
 * Follows a session's live stream (Server-Sent Events, read with `fetch` so that a refusal's
 * status and `Retry-After` can be honoured). `handlers[event](data)` gets each event's data;
 * `results` events reach the handler whole (`{activity_id, results}`): deltas are applied
 * here to the document of the last `snapshot`, `activity` or `results` event, and a delta
 * that does not fit that document (a missed event) reopens the stream for a new snapshot;
 * `onStatus('live' | 'reconnecting')` follows the connection. A stream that ends is opened
 * again after the server's `retry` time, resuming with `Last-Event-ID`; a 429 or 503, or a
 * lost network, is waited out as the server asks, with jitter; when the server refused the
 * token, `onClosed()` (which may fix it) decides whether to try again.
 */
export function follow(sessionId, token, handlers, onStatus = () => {}, onClosed = async () => true) {
  let stopped = false;
  let controller = null;
  let lastId = null;
  let retryMs = 2000;
  let resync = false;
  // The results document deltas apply to: its activity, version and body.
  let live = { activity: null, version: 0, doc: null };

  const keep = (data) => {
    live = { activity: data.activity ? data.activity.id : null, version: data.results_version || 0, doc: data.results };
  };
  // The results event as the page sees it, or null when it brings nothing new.
  const results = (data) => {
    if (data.activity_id !== live.activity) return null;
    // A server from before deltas (during a rolling deploy) sends whole documents only.
    if (data.version === undefined) { live.doc = data.results; return data; }
    if (data.version <= live.version) return null;
    if (data.delta) {
      if (data.base !== live.version || !live.doc) throw new Error('a missed results event');
      live.doc = applyDelta(live.doc, data.delta);
    } else {
      live.doc = data.results;
    }
    live.version = data.version;
    return { activity_id: data.activity_id, results: live.doc };
  };

  const dispatch = (name, raw) => {
    let data;
    try { data = JSON.parse(raw); } catch { return; }
    if (data && data.server_time) clock.sync(data.server_time);
    if (name === 'snapshot' || name === 'activity') keep(data);
    if (name === 'results') {
      try {
        data = results(data);
      } catch {
        // Start again from a snapshot, at once.
        lastId = null;
        resync = true;
        if (controller) controller.abort();
        return;
      }
      if (!data) return;
    }
    if (handlers[name]) handlers[name](data);
  };

  // One block of lines, as the SSE format defines them.
  const block = (text) => {
    let name = 'message';
    const data = [];
    for (const line of text.split(/\r\n|\r|\n/)) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') lastId = value;
      else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
    }
    if (data.length) dispatch(name, data.join('\n'));
  };

  const read = async (body) => {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const match = buffer.slice(end).match(/^\r?\n\r?\n/)[0];
        block(buffer.slice(0, end));
        buffer = buffer.slice(end + match.length);
      }
    }
  };

  // A page the browser keeps for Back (the back/forward cache) lets go of its stream, which
  // would otherwise hold one of the few connections a browser opens to one server; shown
  // again, it picks the stream up where it left off.
  let paused = false;
  const halted = () => stopped || paused;
  addEventListener('pagehide', () => {
    paused = true;
    if (controller) controller.abort();
  });
  addEventListener('pageshow', (event) => {
    if (!event.persisted || !paused || stopped) return;
    paused = false;
    run();
  });

  const run = async () => {
    for (let attempt = 0; !halted();) {
      controller = new AbortController();
      const query = token ? `?token=${encodeURIComponent(token())}` : '';
      const headers = { accept: 'text/event-stream' };
      if (lastId) headers['last-event-id'] = lastId;
      let response = null;
      try {
        response = await fetch(`/api/v1/sessions/${sessionId}/events${query}`, {
          headers, signal: controller.signal, credentials: 'same-origin', cache: 'no-store',
        });
      } catch { response = null; }
      if (halted()) return;
      if (response && response.ok) {
        onStatus('live');
        attempt = 0;
        try { await read(response.body); } catch { /* the connection broke */ }
        if (halted()) return;
        if (resync) { resync = false; continue; }
        onStatus('reconnecting');
        await sleep(retryMs + Math.random() * 1000);
        continue;
      }
      onStatus('reconnecting');
      if (response && [401, 403, 404].includes(response.status)) {
        if ((await onClosed()) === false) return;
        await sleep(3000 + Math.random() * 2000);
        continue;
      }
      const error = new ApiError(response ? response.status : 0, 'stream', '', null, response && retryAfterOf(response));
      await sleep(backoff(error, attempt));
      attempt += 1;
    }
  };
  run();
  return { close() { stopped = true; if (controller) controller.abort(); } };
}

/** Shows a live countdown to `deadline` (ISO, server clock) in `el`; returns a stopper. */
export function countdown(el, deadline, onDone) {
  let timer = null;
  const tick = () => {
    const ms = clock.until(deadline);
    const seconds = Math.ceil(ms / 1000);
    el.textContent = seconds >= 60 ? `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}` : String(seconds);
    el.classList.toggle('urgent', seconds <= 5);
    if (ms <= 0) {
      clearInterval(timer);
      if (onDone) onDone();
    }
  };
  tick();
  timer = setInterval(tick, 250);
  return () => clearInterval(timer);
}

/** Wires the organizer's sign-out button, if the page has one. */
export function setupHeader() {
  const logout = document.getElementById('logout');
  if (logout) {
    logout.addEventListener('click', async () => {
      try { await api('POST', '/auth/logout'); } catch { /* signed out anyway */ }
      location.href = '/login';
    });
  }
}

/** The main element, emptied, with the page heading kept for screen readers. */
export function mainArea() {
  const main = document.getElementById('main');
  const loading = main.querySelector('.loading');
  if (loading) loading.remove();
  return main;
}

/** A short status line that also speaks to screen readers. */
export function notice(el, text, kind = 'info') {
  fill(el, text);
  el.className = `notice ${kind}`;
  el.hidden = !text;
}

/** Whether the person asked for less motion. */
export const reducedMotion = () => matchMedia('(prefers-reduced-motion: reduce)').matches;

/** The translated name of a kind. */
export function kindName(kind) {
  const key = `kind.${kind}`;
  return key in strings ? t(key) : kind;
}

/** A day and time in the page's language (a self-paced session's opening or closing). */
export function dateTime(iso) {
  return new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A time as hours and minutes in the page's language. */
export function time(iso) {
  return new Date(iso).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
}
