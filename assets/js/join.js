// The participant's phone: join with a code and a nickname, then follow the session live.
// The token is kept in localStorage per join code, so a reload or a lost connection comes
// back as the same participant, with its answers.

import { h, t, fill, api, ApiError, errorText, ruleText, follow, announce, persist, hedged, isTransient, PATIENCE_MS, countdown } from './lib.js';
import { renderInput, renderResults, submitter, kindOf, REACTIONS, setTeams, teamName } from './kinds.js';
import { startCourse } from './course.js';

const body = document.body;
const joinView = document.getElementById('join-view');
const playView = document.getElementById('play-view');
const form = document.getElementById('join-form');
const codeInput = document.getElementById('code');
const nickInput = document.getElementById('nickname');
const codeError = document.getElementById('code-error');
const nickError = document.getElementById('nickname-error');

const storeKey = (code) => `conflicto.participant.${code.toUpperCase()}`;

function remember(code, joined) {
  localStorage.setItem(storeKey(code), JSON.stringify({
    token: joined.token, session_id: joined.session_id, nickname: joined.nickname,
  }));
}

function recall(code) {
  try { return JSON.parse(localStorage.getItem(storeKey(code)) || 'null'); } catch { return null; }
}

function forget(code) {
  localStorage.removeItem(storeKey(code));
}

function showError(el, input, text) {
  el.textContent = text || '';
  el.hidden = !text;
  input.setAttribute('aria-invalid', text ? 'true' : 'false');
}

const normalise = (code) => code.replace(/[^0-9a-z]/gi, '').toUpperCase();

// While the server asks the room to wait (429, 503) or the network is away, the page says
// "joining…" or "sending…" calmly, and an error only after 30 s of trying.
const joinWait = document.getElementById('join-wait');
function joinWaiting(waiting) {
  joinWait.textContent = waiting ? t('join.waiting') : '';
  joinWait.hidden = !waiting;
}
const joinHooks = { onWait: joinWaiting, giveUpMs: PATIENCE_MS };

let found = null; // the public session behind the typed code

async function lookUp(code) {
  found = null;
  if (!code) return null;
  try {
    found = await persist(() => api('GET', `/sessions/code/${encodeURIComponent(code)}`), joinHooks);
    if (!found.joinable) {
      showError(codeError, codeInput, found.reason || t('join.not_joinable'));
    } else {
      showError(codeError, codeInput, '');
      const title = document.getElementById('session-found') || h('p', { id: 'session-found', class: 'found' });
      fill(title, t('join.joining', { title: found.title }));
      codeInput.closest('.field').append(title);
    }
    teamPicker(found.teams);
    return found;
  } catch (error) {
    if (error.code === 'session_ended') {
      showEnded(error.details && error.details.title);
      return null;
    }
    showError(codeError, codeInput, error.status === 404 ? t('join.no_such_code') : errorText(error));
    return null;
  }
}

/** A code whose session ended lately (an old QR code): thanks, and a way to another one. */
/** Stops the phone's countdown of the activity on screen; a redraw replaces it. */
let stopPhoneClock = () => {};

function showEnded(title) {
  fill(joinView,
    h('h1', {}, title || t('join.heading')),
    h('p', { class: 'lead', id: 'session-ended' }, t('join.ended')),
    h('p', {}, h('a', { href: '/join' }, t('join.other_session'))));
}

/** Where a joiner picks their team, when the session's teams are picked rather than dealt. */
function teamPicker(teams) {
  document.getElementById('team-field')?.remove();
  if (!teams || teams.assign !== 'choose') return;
  const select = h('select', { id: 'team', required: true, 'aria-describedby': 'team-error' },
    h('option', { value: '' }, t('teams.pick')),
    teams.names.map((name, i) => h('option', { value: String(i) }, name)));
  nickInput.closest('.field').after(h('div', { class: 'field', id: 'team-field' },
    h('label', { for: 'team' }, t('teams.team')), select,
    h('p', { id: 'team-error', class: 'error', role: 'alert', hidden: true })));
}

let nickTimer = null;
nickInput.addEventListener('input', () => {
  clearTimeout(nickTimer);
  nickTimer = setTimeout(async () => {
    const nickname = nickInput.value.trim();
    if (!found || !nickname) return showError(nickError, nickInput, '');
    try {
      const check = await api('GET', `/sessions/${found.id}/nicknames/validate?nickname=${encodeURIComponent(nickname)}`);
      if (check.valid && check.available) showError(nickError, nickInput, '');
      else showError(nickError, nickInput, nicknameProblem(check));
    } catch { /* checked again on join */ }
  }, 350);
});

function nicknameProblem(check) {
  if (!check.valid) return check.rule ? ruleText(check.rule) : t('error.invalid_nickname');
  return check.suggestion ? t('join.taken_try', { suggestion: check.suggestion }) : t('error.nickname_taken');
}

codeInput.addEventListener('change', () => {
  codeInput.value = normalise(codeInput.value);
  lookUp(codeInput.value);
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const code = normalise(codeInput.value);
  codeInput.value = code;
  const nickname = nickInput.value.trim();
  showError(codeError, codeInput, code ? '' : t('join.enter_code'));
  showError(nickError, nickInput, nickname ? '' : t('join.enter_nickname'));
  if (!code) return codeInput.focus();
  if (!found || found.join_code !== code) {
    if (!(await lookUp(code))) return codeInput.focus();
  }
  if (!nickname && found.require_nickname) return nickInput.focus();
  const teamSelect = document.getElementById('team');
  if (teamSelect && !teamSelect.value) {
    showError(document.getElementById('team-error'), teamSelect, t('teams.pick_first'));
    return teamSelect.focus();
  }
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const body = nickname ? { nickname } : {};
    if (teamSelect) body.team = Number(teamSelect.value);
    const joined = await persist(() => api('POST', `/sessions/${found.id}/join`, body), joinHooks);
    remember(code, joined);
    history.replaceState(null, '', `/join/${code}`);
    play(code, joined);
  } catch (error) {
    if (error.code === 'nickname_taken') {
      showError(nickError, nickInput, error.details.suggestion ? t('join.taken_try', { suggestion: error.details.suggestion }) : errorText(error));
      nickInput.focus();
    } else if (error.code === 'invalid_nickname' || error.code === 'banned') {
      showError(nickError, nickInput, errorText(error));
      nickInput.focus();
    } else {
      showError(codeError, codeInput, errorText(error));
      codeInput.focus();
    }
  } finally {
    button.disabled = false;
  }
});

// ---------------------------------------------------------------------------------------
// Taking part

function play(code, joined) {
  const token = joined.token;
  const sessionId = joined.session_id;
  joinView.hidden = true;
  playView.hidden = false;
  document.title = `${t('phone.title')} · Conflicto`;

  const status = h('span', { class: 'conn', role: 'status' }, t('phone.connecting'));
  const sendingNote = h('p', { class: 'notice info sending', role: 'status', hidden: true });
  const sessionTitle = h('h1', { class: 'phone-title' }, '');
  const activityArea = h('section', { class: 'activity', 'aria-live': 'polite' });
  const resultsArea = h('section', { class: 'phone-results', 'aria-label': t('results.heading') });
  const reactions = h('nav', { class: 'reactions', 'aria-label': t('reactions.label') }, REACTIONS.map(([name, glyph]) => h('button', {
    type: 'button', class: 'react', 'aria-label': t(`reaction.${name}`), title: t(`reaction.${name}`),
    onclick: () => react(name, glyph),
  }, glyph)));
  fill(playView,
    h('header', { class: 'phone-head' }, sessionTitle,
      h('p', { class: 'who' }, h('span', { class: 'who-name', title: joined.nickname }, t('phone.you_are', { nickname: joined.nickname })), h('span', { 'aria-hidden': 'true' }, '·'),
        joined.team != null ? [h('span', { class: 'who-team', id: 'who-team' }), h('span', { 'aria-hidden': 'true' }, '·')] : null, status)),
    sendingNote, activityArea, resultsArea, reactions);

  const state = { session: null, activity: null, results: null, own: null, mine: [], signature: '' };

  /** The session's teams for the kinds' team race, and this phone's own team by name. */
  function showTeam(session) {
    setTeams(session.teams);
    const el = document.getElementById('who-team');
    if (el && session.teams) el.textContent = t('teams.your_team', { team: teamName(joined.team) });
  }

  // Answers not yet stored are kept in localStorage until the server has answered them, so
  // that a reload or a lost phone battery does not lose them; they are sent again with the
  // same request id, which the server counts once.
  const pendingKey = `conflicto.pending.${code.toUpperCase()}`;
  const pending = () => { try { return JSON.parse(localStorage.getItem(pendingKey) || '[]'); } catch { return []; } };
  const keepPending = (list) => (list.length ? localStorage.setItem(pendingKey, JSON.stringify(list)) : localStorage.removeItem(pendingKey));
  const waiting = new Set();
  const sendingHooks = (id) => ({
    onWait(on) {
      if (on) waiting.add(id); else waiting.delete(id);
      if (!waiting.size) sendingNote.hidden = true;
      else if (sendingNote.hidden) notice(t('phone.sending_wait'), 'info');
    },
    onLate() { notice(t('phone.sending_late'), 'error'); },
  });
  function notice(text, kind) {
    sendingNote.textContent = text;
    sendingNote.className = `notice ${kind} sending`;
    sendingNote.hidden = false;
  }

  const send = async (activityId, payload) => {
    const id = payload.client_request_id;
    if (!pending().some((p) => p.payload.client_request_id === id)) keepPending([...pending(), { activityId, payload }]);
    try {
      const stored = await hedged(() => api('POST', `/activities/${activityId}/responses`, payload, { token }));
      keepPending(pending().filter((p) => p.payload.client_request_id !== id));
      return stored;
    } catch (error) {
      if (!isTransient(error)) keepPending(pending().filter((p) => p.payload.client_request_id !== id));
      throw error;
    }
  };

  // Answers a reload interrupted go out again first.
  for (const { activityId, payload } of pending()) {
    persist(() => send(activityId, payload), sendingHooks(payload.client_request_id)).catch(() => {});
  }

  async function react(name, glyph) {
    floatUp(glyph);
    try {
      await persist(() => api('POST', `/sessions/${sessionId}/reactions`, { emoji: name }, { token }), { giveUpMs: PATIENCE_MS });
    } catch { /* refused or offline for long: a reaction is not worth an error */ }
  }

  function floatUp(glyph) {
    if (matchMedia('(prefers-reduced-motion: reduce)').matches) return;
    const bubble = h('span', { class: 'float', 'aria-hidden': 'true', style: { left: `${10 + Math.random() * 80}%` } }, glyph);
    playView.append(bubble);
    setTimeout(() => bubble.remove(), 1600);
  }

  async function refreshOwn() {
    const a = state.activity;
    if (!a || a.state !== 'active') { state.own = null; state.mine = []; return; }
    const [mine, own] = await Promise.all([
      api('GET', `/activities/${a.id}/responses/me`, undefined, { token }).then((r) => r.items).catch(() => []),
      api('GET', `/activities/${a.id}/results`, undefined, { token }).catch(() => null),
    ]);
    state.mine = mine;
    state.own = own;
    // The participant's own view is the room's results plus their own part, and newer than
    // the last broadcast (which comes at most once a second): show it at once.
    if (own && own.activity_id === a.id) state.results = own;
  }

  // Typed text and unsent picks survive a re-render of the same activity round, and so does
  // the last confirmation while the activity's run state is what it was (an answer's
  // "sent"); a new activity or round starts clean, and a changed run state (armed, revealed,
  // locked) says what it says now.
  function keepInputs(render) {
    const a = state.activity;
    const key = `${a.id}/${a.round}`;
    const same = activityArea.dataset.key === key;
    const run = JSON.stringify([a.state, a.kind_state, a.results_visible]);
    const sameRun = same && activityArea.dataset.run === run;
    const kept = new Map();
    activityArea.querySelectorAll('input[id], textarea[id]').forEach((el) => {
      kept.set(el.id, el.type === 'radio' || el.type === 'checkbox' ? el.checked : el.value);
    });
    const notice = activityArea.querySelector('.notice[role=status]:not([hidden])');
    const said = notice && { text: notice.textContent, cls: notice.className };
    const focused = document.activeElement && document.activeElement.id;
    activityArea.querySelectorAll('[id]').forEach((el) => { el.dataset.stale = '1'; });
    render();
    activityArea.dataset.key = key;
    activityArea.dataset.run = run;
    if (!same) return;
    for (const [id, value] of kept) {
      const el = document.getElementById(id);
      if (!el || el.disabled) continue;
      if (typeof value === 'boolean') el.checked = value;
      else if (!el.value) el.value = value;
    }
    const fresh = activityArea.querySelector('.notice[role=status]');
    if (sameRun && said && fresh && fresh.hidden) {
      fresh.textContent = said.text;
      fresh.className = said.cls;
      fresh.hidden = false;
    }
    if (focused) document.getElementById(focused)?.focus();
  }

  function signature(a) {
    return a ? JSON.stringify([a.id, a.round, a.state, a.config, a.kind_state, a.results_visible, a.deadline_at]) : '';
  }

  // A self-paced session runs its course on the phone instead of following the screen;
  // switched back to live, the phone follows the screen again.
  let stopCourse = null;
  let courseHours = '';

  function render({ inputChanged }) {
    const s = state.session;
    if (s) sessionTitle.textContent = s.title;
    if (s && s.status === 'active' && s.pace === 'self_paced') {
      // New opening or closing times: the course starts over from the server's word.
      const hours = JSON.stringify([s.opens_at, s.closes_at]);
      if (stopCourse && courseHours !== hours) {
        stopCourse();
        stopCourse = null;
      }
      courseHours = hours;
      if (!stopCourse) {
        stopPhoneClock();
        fill(resultsArea);
        activityArea.dataset.key = '';
        stopCourse = startCourse({ area: activityArea, token, send, hooks: sendingHooks });
      }
      return;
    }
    if (stopCourse) {
      stopCourse();
      stopCourse = null;
      inputChanged = true;
    }
    const a = state.activity;
    if (s && s.status === 'completed') {
      stopPhoneClock();
      fill(activityArea, h('div', { class: 'done' }, h('p', { class: 'lead' }, t('phone.ended')), h('p', {}, t('phone.thanks'))));
      fill(resultsArea);
      return;
    }
    if (!a || a.state !== 'active') {
      stopPhoneClock();
      fill(activityArea, h('div', { class: 'waiting' }, h('p', { class: 'lead' }, a ? t('phone.closed', { title: a.title }) : t('phone.wait')),
        h('p', { class: 'muted' }, t('phone.wait_hint'))));
      showResults(a);
      return;
    }
    // A timed activity counts down on the phone too, from the server's clock; a kind that
    // times its own steps (a quiz question) shows its own countdown.
    const deadline = kindOf(a.kind).ownDeadline ? null : a.deadline_at;
    const redraw = () => {
      stopPhoneClock();
      const clockEl = deadline ? h('span', { class: 'countdown', role: 'timer' }) : null;
      fill(activityArea,
        h('h2', { class: 'activity-title' }, a.title),
        clockEl ? h('p', { class: 'phone-timer' }, t('run.time_left'), ' ', clockEl) : null,
        renderInput({
        activity: a, results: state.results, own: state.own, mine: state.mine,
        submit: async (answer) => {
          try {
            const stored = await submitter(a.id, send, sendingHooks(`${a.id}:${Date.now()}:${Math.random()}`))(answer);
            refreshOwn().then(() => render({ inputChanged: true }));
            return stored;
          } catch (error) {
            error.localized = errorText(error);
            throw error;
          }
        },
      }));
      if (clockEl) stopPhoneClock = countdown(clockEl, deadline);
    };
    if (inputChanged) keepInputs(redraw);
    showResults(a);
  }

  function showResults(a) {
    const withResults = a && state.results && kindOf(a.kind).phoneResults;
    if (!withResults) return fill(resultsArea);
    fill(resultsArea, h('h2', { class: 'small-heading' }, t('results.heading')), renderResults(a, state.results, 'phone'));
  }

  async function activityChanged(activity, results) {
    const before = state.signature;
    state.activity = activity;
    state.results = results ?? (activity && state.results && state.results.activity_id === activity.id ? state.results : null);
    state.signature = signature(activity);
    if (before !== state.signature) {
      if (activity && activity.state === 'active') {
        announce(t('phone.new_activity', { title: activity.title }));
      }
      await refreshOwn();
      render({ inputChanged: true });
    } else {
      render({ inputChanged: !!activity && kindOf(activity.kind).inputUsesResults });
    }
  }

  function removed() {
    forget(code);
    reactions.hidden = true;
    fill(activityArea, h('p', { class: 'lead' }, t('phone.removed')));
    fill(resultsArea);
  }

  const stream = follow(sessionId, () => token, {
    removed() {
      stream.close();
      removed();
    },
    snapshot(data) {
      state.session = data.session;
      showTeam(data.session);
      state.signature = '';
      activityChanged(data.activity, data.results);
    },
    session(data) {
      state.session = data.session;
      showTeam(data.session);
      render({ inputChanged: false });
    },
    activity(data) {
      activityChanged(data.activity, data.results);
    },
    results(data) {
      if (state.activity && data.activity_id === state.activity.id) {
        state.results = data.results;
        render({ inputChanged: kindOf(state.activity.kind).inputUsesResults });
      }
    },
  }, (s) => {
    status.textContent = s === 'live' ? t('phone.live') : t('phone.reconnecting');
    status.className = `conn ${s}`;
  }, async () => {
    // The server refused the stream: were we removed, or did the session end?
    try {
      await api('GET', '/participants/me', undefined, { token });
      return true;
    } catch (error) {
      if (error instanceof ApiError && (error.status === 403 || error.status === 401 || error.status === 404)) {
        if (error.code === 'participant_removed') {
          removed();
        } else {
          forget(code);
          fill(activityArea, h('p', { class: 'lead' }, t('phone.left')));
          fill(resultsArea);
        }
        return false;
      }
      return true;
    }
  });
}

// ---------------------------------------------------------------------------------------
// Start: a remembered participant for this code rejoins at once.

async function start() {
  const code = normalise(body.dataset.code || '');
  if (code) codeInput.value = code;
  const saved = code ? recall(code) : null;
  if (saved) {
    try {
      const joined = await persist(() => api('POST', `/sessions/${saved.session_id}/join`, { token: saved.token }), joinHooks);
      remember(code, joined);
      play(code, joined);
      return;
    } catch (error) {
      // Still busy after 30 s: keep the token for the next try, say so.
      if (isTransient(error)) {
        const notice = document.getElementById('join-notice');
        notice.textContent = errorText(error);
        notice.hidden = false;
        return;
      }
      forget(code);
      // The token no longer names someone in the session: removed, banned, or ended.
      const notice = document.getElementById('join-notice');
      notice.textContent = error.code === 'banned' ? errorText(error) : t('phone.left');
      notice.hidden = false;
    }
  }
  if (code) {
    await lookUp(code);
    nickInput.focus();
  } else {
    codeInput.focus();
  }
}

start();
