// The big screen: a large QR code and join code before and between activities, the live
// activity with a corner QR while one runs, floating reactions, and keyboard controls for
// the organizer. It follows the session with a viewer key, so it only ever shows what the
// room may see, even when the organizer's laptop drives it.

import { h, t, num, fill, api, follow, countdown, clock, currentOrganizer, errorText, reducedMotion, kindName, announce, dateTime } from './lib.js';
import { renderResults, headline, kindOf, REACTIONS, setTeams } from './kinds.js';
import { rich } from './rich.js';
import * as control from './control.js';

const sessionId = document.body.dataset.session;
const main = document.getElementById('main');
const params = new URLSearchParams(location.search);
const hash = new URLSearchParams(location.hash.slice(1));

const state = { session: null, activity: null, results: null, progress: null, qr: false, help: false };
let organizer = null;
let stopCountdown = () => {};

const stage = h('div', { class: 'stage' });
const floats = h('div', { class: 'floats', 'aria-hidden': 'true' });
const toast = h('p', { class: 'toast', role: 'status', hidden: true });
const liveText = h('div', { class: 'sr-only', 'aria-live': 'polite' });

function joinUrl() {
  return state.session ? state.session.join_url : '';
}

function joinHost() {
  try {
    const url = new URL(joinUrl());
    return `${url.host}${url.pathname.replace(/\/[^/]*$/, '')}`;
  } catch {
    return location.host + '/join';
  }
}

function qr(size) {
  const s = state.session;
  return h('img', { class: `qr ${size}`, src: `/join/${s.join_code}/qr.svg`, alt: t('present.qr_alt', { url: joinUrl() }) });
}

function joinPanel() {
  const s = state.session;
  return h('section', { class: 'join-panel' },
    h('h1', { class: 'screen-title' }, s.title),
    h('div', { class: 'join-body' },
      qr('large'),
      h('div', { class: 'join-text' },
        h('p', { class: 'join-how' }, t('present.go_to')),
        h('p', { class: 'join-url' }, joinHost()),
        h('p', { class: 'join-how' }, t('present.enter_code')),
        h('p', { class: 'join-code', 'aria-label': t('present.code_is', { code: s.join_code.split('').join(' ') }) }, s.join_code),
        h('p', { class: 'join-count' }, t('present.joined', { count: state.session.participant_count })),
        courseProgress())),
    s.status === 'draft' ? h('p', { class: 'notice info' }, t('present.not_open')) : null);
}

/** A self-paced session invites the room to go at its own pace and shows how far it is. */
function courseProgress() {
  const s = state.session;
  if (s.pace !== 'self_paced' || s.status !== 'active') return null;
  const p = state.progress;
  let when = s.closes_at ? t('course.closes_at', { time: dateTime(s.closes_at) }) : null;
  if (s.opens_at && clock.until(s.opens_at) > 0) when = t('present.opens_at', { time: dateTime(s.opens_at) });
  else if (s.closes_at && clock.until(s.closes_at) <= 0) when = t('error.session_closed');
  return h('div', { class: 'join-course' },
    h('p', { class: 'join-how' }, t('present.self_paced')),
    when ? h('p', { class: 'join-how' }, when) : null,
    p ? h('p', { class: 'join-progress', id: 'screen-progress' }, t('run.progress_summary', { started: num(p.started), participants: num(p.participants), finished: num(p.finished) })) : null,
    p && p.participants ? h('progress', { class: 'screen-progress', max: p.participants, value: p.finished, 'aria-hidden': 'true' }) : null);
}

/** How often the screen reads a self-paced session's progress. */
const PROGRESS_MS = 5000;
/** Counts the starts of reading progress, so that a stopped reader does not go on. */
let progressReads = 0;
let progressWanted = false;

/** Reads progress every few seconds while the session is self-paced, and stops when not. */
function watchProgress(token) {
  const s = state.session;
  const wanted = !!s && s.pace === 'self_paced' && s.status === 'active';
  if (wanted === progressWanted) return;
  progressWanted = wanted;
  const reading = ++progressReads;
  state.progress = null;
  if (!wanted) return;
  const read = async () => {
    if (reading !== progressReads) return;
    try {
      state.progress = await api('GET', `/sessions/${sessionId}/progress`, undefined, { token });
      if (reading === progressReads) render();
    } catch {
      // The figures on screen stay until the next read succeeds.
    }
    setTimeout(read, PROGRESS_MS);
  };
  read();
}

function corner() {
  const s = state.session;
  return h('aside', { class: 'corner' }, qr('small'),
    h('div', {}, h('p', { class: 'corner-url' }, joinHost().replace(/\/[^/]*$/, ''), h('wbr'), joinHost().match(/\/[^/]*$/)?.[0] || ''), h('p', { class: 'corner-code' }, s.join_code),
      h('p', { class: 'corner-count' }, t('present.people', { count: state.session.participant_count }))));
}

function activityPanel(a) {
  const clockEl = h('span', { class: 'countdown big', role: 'timer' });
  const kind = kindOf(a.kind);
  const deadline = a.state === 'active' ? (kind.deadline(a, null) || a.deadline_at) : null;
  stopCountdown();
  stopCountdown = deadline ? countdown(clockEl, deadline) : () => {};
  const sub = [];
  const subtitle = kind.subtitle(a);
  if (subtitle) sub.push(subtitle);
  if (a.state === 'closed') sub.push(t('present.closed'));
  let content;
  // The server sends this screen only what the room may see (a poker table before the
  // reveal shows who voted); whatever arrives is shown.
  if (state.results) {
    content = renderResults(a, state.results, 'screen');
  } else {
    content = kind.waiting(a) || h('p', { class: 'lead center muted' }, t('present.results_hidden'));
  }
  return h('section', { class: `activity-panel kind-${a.kind}` },
    h('header', { class: 'activity-head' },
      h('p', { class: 'kind-label' }, kindName(a.kind), sub.length ? ` · ${sub.join(' · ')}` : ''),
      h('h1', { class: 'screen-question' }, rich(headline(a))),
      deadline ? clockEl : null),
    h('div', { class: 'screen-results' }, content));
}

/** An ended session thanks the room and no longer invites anyone to join. */
function endPanel() {
  const s = state.session;
  return h('section', { class: 'end-panel' },
    h('h1', { class: 'screen-title' }, s.title),
    h('p', { class: 'end-thanks' }, t('present.thanks')),
    h('p', { class: 'end-count' }, t('present.took_part', { count: s.participant_count })));
}

function render() {
  if (!state.session) return;
  const a = state.activity;
  const showActivity = a && (a.state === 'active' || (a.state === 'closed' && state.results)) && state.session.status === 'active';
  const children = [];
  if (state.session.status === 'completed') {
    stopCountdown();
    children.push(endPanel());
  } else if (showActivity && !state.qr) {
    children.push(activityPanel(a), corner());
  } else {
    stopCountdown();
    children.push(joinPanel());
  }
  if (state.help) children.push(helpPanel());
  const before = snapshot();
  fill(stage, children);
  fitToScreen();
  animateFrom(before);
}

// A screen that changes size (a window moved to the projector, full screen) fits anew.
let resizing = null;
addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = setTimeout(render, 150);
});

/** How long a page of a rotating list stays up. */
const PAGE_MS = 10000;
/** Where each rotating list's shown page starts, and where the next one will, by `data-rotate`. */
const pages = new Map();

/**
 * Nothing is cut off at the screen's edge: a list marked `data-fit="list"` shows as many of
 * its entries as fit, in its order (newest, most voted, fastest first), and says how many
 * more there are; one also marked `data-rotate` shows the rest a page at a time instead
 * (see `turnPages`). An element marked `data-fit="scale"` (the word cloud) gets smaller
 * until it fits.
 */
function fitToScreen() {
  const area = stage.querySelector('.screen-results');
  if (!area) return;
  const bottom = () => area.getBoundingClientRect().bottom + 1;
  for (const el of area.querySelectorAll('[data-fit="scale"]')) {
    const over = () => el.scrollHeight > el.clientHeight + 1 || el.getBoundingClientRect().bottom > bottom()
      || area.scrollHeight > area.clientHeight + 1
      || [...el.children].some((child) => child.getBoundingClientRect().right > innerWidth);
    for (let scale = 1; scale > 0.25 && over(); scale -= 0.05) el.style.fontSize = `${scale.toFixed(2)}em`;
  }
  // Each list shows the entries from `start` to `end`, and says what it leaves out.
  const spans = [...area.querySelectorAll('[data-fit="list"]')].map((list) => {
    const items = [...list.children].filter((item) => !item.classList.contains('more'));
    const page = pages.get(list.dataset.rotate);
    const start = page && page.start < items.length ? page.start : 0;
    items.slice(0, start).forEach((item) => { item.style.display = 'none'; });
    const total = Math.max(Number(list.dataset.total) || 0, items.length);
    return { list, items, start, end: items.length, total, more: null };
  });
  const rotating = (span) => span.list.dataset.rotate && (span.start > 0 || span.end < span.items.length);
  const label = (span) => {
    span.more = span.more || span.list.querySelector(':scope > .more') || span.list.appendChild(h('li', { class: 'more' }));
    span.more.textContent = rotating(span)
      ? t('present.page', { from: num(span.start + 1), to: num(span.end), count: span.total })
      : t('present.more', { count: span.total - span.end });
  };
  for (const span of spans) if (span.start > 0) label(span);
  // A list marked `data-fit-last` (the team race) is cut only when cutting the others was not
  // enough.
  spans.sort((a, b) => Number('fitLast' in a.list.dataset) - Number('fitLast' in b.list.dataset));
  // First each list is cut to the area's bottom, then, if what follows a list (a total) is
  // still pushed out, each again until it is not.
  const passes = [
    (list) => list.getBoundingClientRect().bottom > bottom(),
    (list) => area.scrollHeight > area.clientHeight + 1
      || [...list.parentElement.children].some((el) => el.getBoundingClientRect().bottom > bottom()),
  ];
  for (const over of passes) {
    for (const span of spans) {
      const { list, items } = span;
      if (span.end <= span.start || !over(list)) continue;
      // One measuring pass drops every entry that starts below the area at once, so a long
      // list costs a few layouts, not one per entry; the rest go one by one.
      const limit = bottom();
      const below = items.findIndex((item, i) => i >= span.start && i < span.end && item.getBoundingClientRect().top >= limit);
      if (below >= 0) {
        items.slice(below, span.end).forEach((item) => { item.style.display = 'none'; });
        span.end = below;
      }
      label(span);
      while (span.end > span.start && over(list)) {
        span.end -= 1;
        items[span.end].style.display = 'none';
        label(span);
      }
    }
  }
  for (const span of spans) {
    if (!span.list.dataset.rotate) continue;
    if (rotating(span)) pages.set(span.list.dataset.rotate, { start: span.start, next: span.end < span.items.length && span.end > span.start ? span.end : 0 });
    else pages.delete(span.list.dataset.rotate);
  }
}

/** Every few seconds a rotating list that did not fit shows its next page. */
function turnPages() {
  if (!pages.size) return;
  for (const page of pages.values()) page.start = page.next;
  render();
}

/** Where the animated parts of the screen were before a redraw. */
function snapshot() {
  return {
    fills: [...stage.querySelectorAll('.bar-fill, .column-fill')].map((el) => el.style.width || el.style.height),
    places: new Map([...stage.querySelectorAll('[data-key]')].map((el) => [el.dataset.key, el.getBoundingClientRect()])),
  };
}

/**
 * Results move instead of jumping: bars grow from where they were, an entry that was on
 * screen before (a leaderboard row, a word, a card, a question; `data-key`) slides from its
 * old place to its new one, and a new entry turns in. Nothing moves under reduced motion.
 */
function animateFrom({ fills, places }) {
  if (reducedMotion()) return;
  [...stage.querySelectorAll('.bar-fill, .column-fill')].forEach((el, i) => {
    const prop = el.classList.contains('bar-fill') ? 'width' : 'height';
    const target = el.style[prop];
    el.style[prop] = fills[i] ?? '0%';
    requestAnimationFrame(() => requestAnimationFrame(() => { el.style[prop] = target; }));
  });
  for (const el of stage.querySelectorAll('[data-key]')) {
    if (el.style.display === 'none') continue;
    const was = places.get(el.dataset.key);
    const now = el.getBoundingClientRect();
    if (was) {
      const dx = was.left - now.left;
      const dy = was.top - now.top;
      if (Math.abs(dx) > 1 || Math.abs(dy) > 1) {
        el.animate([{ transform: `translate(${dx}px, ${dy}px)` }, { transform: 'none' }], { duration: 600, easing: 'ease-out' });
      }
    } else if (places.size) {
      el.animate([{ opacity: 0, transform: 'perspective(60em) rotateX(80deg)' }, { opacity: 1, transform: 'none' }], { duration: 500, easing: 'ease-out' });
    }
  }
}

function helpPanel() {
  const keys = [['→ / N', 'present.key_next'], ['R', 'present.key_reveal'], ['C', 'present.key_close'], ['Q', 'present.key_qr'], ['F', 'present.key_fullscreen'], ['?', 'present.key_help']];
  return h('div', { class: 'help', role: 'dialog', 'aria-label': t('present.keys') },
    h('h2', {}, t('present.keys')),
    organizer ? null : h('p', {}, t('present.keys_need_login')),
    h('dl', {}, keys.map(([k, label]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, t(label))])));
}

function showToast(text) {
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => { toast.hidden = true; }, 2500);
}

function floatReactions(counts) {
  const glyphs = Object.fromEntries(REACTIONS);
  if (reducedMotion()) return;
  let shown = 0;
  for (const [name, count] of Object.entries(counts || {})) {
    for (let i = 0; i < Math.min(count, 6) && shown < 16; i++, shown++) {
      const bubble = h('span', { class: 'float', style: { left: `${5 + Math.random() * 85}%`, animationDelay: `${Math.random() * 400}ms` } }, glyphs[name] || '');
      floats.append(bubble);
      setTimeout(() => bubble.remove(), 3200);
    }
  }
}

async function key(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const k = event.key.toLowerCase();
  if (k === 'q') { state.qr = !state.qr; return render(); }
  if (k === 'f') {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen?.().catch(() => {});
    return;
  }
  if (k === '?' || k === 'h') { state.help = !state.help; return render(); }
  if (k === 'escape') { state.help = false; state.qr = false; return render(); }
  if (!['arrowright', 'n', 'pagedown', ' ', 'r', 'c'].includes(k)) return;
  event.preventDefault();
  if (state.help) { state.help = false; render(); }
  if (!organizer) return showToast(t('present.keys_need_login'));
  try {
    const a = state.activity;
    if (k === 'r' && a) await control.toggleReveal(a);
    else if (k === 'c' && a && a.state === 'active') await control.close(a.id);
    else if (k !== 'r' && k !== 'c') {
      const started = await control.next(sessionId);
      showToast(started ? t('present.started', { title: started.title }) : t('present.agenda_done'));
    }
  } catch (error) {
    showToast(errorText(error));
  }
}

async function viewerKey() {
  const given = params.get('key') || hash.get('key');
  organizer = await currentOrganizer().catch(() => null);
  if (given) return given;
  if (!organizer) return null;
  const link = await api('POST', `/sessions/${sessionId}/viewer-link`);
  return link.token;
}

async function start() {
  document.getElementById('page-title')?.remove();
  fill(main, stage, floats, toast, liveText);
  main.classList.add('screen');
  const keyToken = await viewerKey().catch(() => null);
  if (!keyToken) {
    fill(stage, h('div', { class: 'narrow' }, h('h1', {}, t('present.title')), h('p', { class: 'notice error' }, t('present.need_key'))));
    return;
  }
  // The key moves from the query to the fragment: a reload keeps working, and the key is no
  // longer sent to the server with every page load (nor kept in proxies' logs).
  if (params.has('key')) history.replaceState(null, '', `${location.pathname}#key=${encodeURIComponent(keyToken)}`);
  document.addEventListener('keydown', key);
  setInterval(turnPages, PAGE_MS);
  follow(sessionId, () => keyToken, {
    snapshot(d) {
      state.session = d.session;
      setTeams(d.session.teams);
      watchProgress(keyToken);
      state.activity = d.activity;
      state.results = d.results;
      render();
    },
    session(d) { state.session = d.session; setTeams(d.session.teams); watchProgress(keyToken); render(); },
    activity(d) {
      const changed = !state.activity || !d.activity || state.activity.id !== d.activity.id || state.activity.state !== d.activity.state;
      state.activity = d.activity;
      state.results = d.results;
      if (changed && d.activity && d.activity.state === 'active') announce(`${kindName(d.activity.kind)}: ${headline(d.activity)}`);
      render();
    },
    results(d) {
      if (state.activity && d.activity_id === state.activity.id) {
        state.results = d.results;
        render();
      }
    },
    participants(d) {
      if (state.session) state.session.participant_count = d.participant_count;
      render();
    },
    reactions(d) { floatReactions(d.counts); },
    timer(d) { clock.sync(d.server_time); },
  }, (s) => { document.body.dataset.connection = s; });
}

start();
