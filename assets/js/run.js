// The run view: the agenda, the running activity with its controls, results (with what only
// the organizer sees: moderation queues, hidden results), timers, participants with presence,
// and reactions. It follows the organizer's live stream.

import { h, t, fill, api, errorText, follow, setupHeader, mainArea, kindName, num, countdown, time, dateTime, srOnly, notice } from './lib.js';
import { renderResults, headline, kindOf, REACTIONS, setTeams } from './kinds.js';
import { rich } from './rich.js';
import * as control from './control.js';

setupHeader();
const sessionId = document.body.dataset.session;
const main = mainArea();
main.classList.add('wide');
const title = document.getElementById('page-title');

const bar = h('section', { class: 'run-bar' });
const message = h('p', { class: 'notice', role: 'status', hidden: true });
const agendaArea = h('nav', { class: 'run-agenda', 'aria-labelledby': 'agenda-heading' });
const currentArea = h('section', { class: 'run-current', 'aria-labelledby': 'current-heading' });
const peopleArea = h('section', { class: 'run-people', 'aria-labelledby': 'people-heading' });
main.append(bar, message, h('div', { class: 'run-grid' }, agendaArea, currentArea, peopleArea));

const state = { session: null, activity: null, results: null, agenda: [], online: 0, totals: {}, participants: [], connection: 'connecting' };
let stopCountdown = () => {};

async function act(action, success) {
  try {
    await action();
    notice(message, success || '', 'ok');
  } catch (error) {
    notice(message, errorText(error), 'error');
  }
}

async function openScreen() {
  await act(async () => {
    const link = await api('POST', `/sessions/${sessionId}/viewer-link`);
    const opened = window.open(link.url, 'conflicto-screen');
    if (!opened) location.href = link.url;
  });
}

function drawBar() {
  const s = state.session;
  if (!s) return;
  title.textContent = s.title;
  document.title = `${t('run.title')}: ${s.title} · Conflicto`;
  fill(bar,
    h('p', { class: 'meta' },
      h('span', { class: `status status-${s.status}` }, t(`session.${s.status}`)), ' · ',
      t('builder.code'), ' ', h('code', { class: 'big-code' }, s.join_code), ' · ',
      h('span', { id: 'people-count' }, t('run.people', { count: s.participant_count, online: num(state.online) })), ' · ',
      h('span', { class: `conn ${state.connection}` }, state.connection === 'live' ? t('phone.live') : t('phone.reconnecting'))),
    h('div', { class: 'toolbar' },
      s.status === 'draft' ? h('button', { type: 'button', class: 'button', onclick: () => act(() => api('PATCH', `/sessions/${sessionId}`, { status: 'active' }), t('builder.opened')) }, t('builder.open')) : null,
      s.status === 'active' && s.pace !== 'self_paced' ? h('button', { type: 'button', class: 'button', id: 'next', onclick: next }, t('run.next')) : null,
      s.status !== 'completed' ? h('button', {
        type: 'button', class: 'button secondary', id: 'switch-pace',
        onclick: () => act(() => api('PATCH', `/sessions/${sessionId}`, { pace: s.pace === 'self_paced' ? 'live' : 'self_paced' }),
          s.pace === 'self_paced' ? t('run.now_live') : t('run.now_self_paced')),
      }, s.pace === 'self_paced' ? t('run.switch_live') : t('run.switch_self_paced')) : null,
      h('button', { type: 'button', class: 'button secondary', id: 'open-screen', onclick: openScreen }, t('run.open_screen')),
      h('a', { class: 'button secondary', href: `/organizer/sessions/${sessionId}` }, t('run.edit')),
      s.status === 'active' ? h('button', { type: 'button', class: 'button danger', onclick: () => { if (confirm(t('builder.confirm_close'))) act(() => api('PATCH', `/sessions/${sessionId}`, { status: 'completed' }), t('builder.closed')); } }, t('builder.close')) : null,
      s.status === 'completed' ? h('a', { class: 'button', href: `/organizer/sessions/${sessionId}/report` }, t('sessions.report')) : null));
}

async function next() {
  await act(async () => {
    const started = await control.next(sessionId);
    notice(message, started ? t('present.started', { title: started.title }) : t('present.agenda_done'), 'ok');
  });
}

function drawAgenda() {
  fill(agendaArea, h('h2', { id: 'agenda-heading' }, t('run.agenda')),
    h('ol', { class: 'agenda' }, state.agenda.map((item) => h('li', { class: `agenda-item state-${item.state}${state.activity && state.activity.id === item.id ? ' current' : ''}` },
      h('span', { class: 'kind-badge' }, kindName(item.kind)),
      h('span', { class: 'agenda-title' }, item.title),
      h('span', { class: 'state' }, t(`state.${item.state}`), item.round > 1 ? ` · ${t('run.round', { round: item.round })}` : ''),
      state.session && state.session.status === 'active' && item.state !== 'active' ? h('button', {
        type: 'button', class: 'button small secondary',
        onclick: () => act(() => control.activate(item)),
      }, item.state === 'closed' ? t('run.reopen') : t('run.start'), srOnly(` ${item.title}`)) : null))));
}

function commandButton(label, name, args = {}, cls = 'secondary') {
  return h('button', { type: 'button', class: `button ${cls}`, onclick: () => act(() => control.command(state.activity.id, name, args)) }, label);
}

/** The controls the kind adds to the framework's (close, reveal, new round). */
function kindControls(a, r) {
  return kindOf(a.kind).controls(a, commandButton, (name, args) => act(() => control.command(a.id, name, args)), r);
}

// A self-paced session: where everyone is in the course, read every 3 seconds, and the
// results of the activity picked from it.
const progress = { data: null, picked: null, activity: null, results: null, timer: null };

async function loadProgress() {
  try {
    progress.data = await api('GET', `/sessions/${sessionId}/progress`);
    if (progress.picked) {
      progress.results = await api('GET', `/activities/${progress.picked}/results`).catch(() => progress.results);
    }
  } catch { /* shown on the next read */ }
  if (state.session && state.session.pace === 'self_paced') drawCurrent();
}

function followProgress() {
  const paced = state.session && state.session.pace === 'self_paced' && state.session.status !== 'draft';
  if (paced && !progress.timer) {
    loadProgress();
    progress.timer = setInterval(loadProgress, 3000);
  } else if (!paced && progress.timer) {
    clearInterval(progress.timer);
    progress.timer = null;
  }
}

async function pick(id) {
  progress.picked = id;
  await act(async () => {
    [progress.activity, progress.results] = await Promise.all([api('GET', `/activities/${id}`), api('GET', `/activities/${id}/results`)]);
  });
  drawCurrent();
}

function drawProgress() {
  const s = state.session;
  const p = progress.data;
  const hours = [s.opens_at ? t('run.opens', { time: dateTime(s.opens_at) }) : null, s.closes_at ? t('run.closes', { time: dateTime(s.closes_at) }) : null].filter(Boolean);
  const people = Math.max(1, p ? p.participants : 0);
  fill(currentArea,
    h('h2', { id: 'current-heading' }, t('run.progress')),
    h('p', { class: 'meta' }, t('run.self_paced'), hours.length ? ` · ${hours.join(' · ')}` : ''),
    p ? h('p', { class: 'lead', id: 'progress-summary' }, t('run.progress_summary', { started: num(p.started), participants: num(p.participants), finished: num(p.finished) })) : null,
    p ? h('ol', { class: 'progress-list' }, p.activities.map((row) => h('li', { class: 'progress-row' },
      h('span', { class: 'agenda-title', title: row.title }, row.title),
      h('span', {}, t('run.progress_on', { count: row.on }), ' ',
        h('button', { type: 'button', class: 'button small secondary', onclick: () => pick(row.activity_id) }, t('run.show_results'), srOnly(` ${row.title}`))),
      h('progress', { max: people, value: row.on, 'aria-label': t('run.progress_on', { count: row.on }) })))) : null,
    progress.activity && progress.results ? h('section', { class: 'run-results', 'aria-label': t('results.heading') },
      h('h3', {}, progress.activity.title),
      renderResults(progress.activity, progress.results, 'organizer')) : null);
}

function drawCurrent() {
  const a = state.activity;
  stopCountdown();
  if (state.session && state.session.pace === 'self_paced' && state.session.status !== 'draft') {
    drawProgress();
    return;
  }
  if (!a) {
    fill(currentArea, h('h2', { id: 'current-heading' }, t('run.nothing_running')), h('p', { class: 'muted' }, t('run.start_hint')));
    return;
  }
  const active = a.state === 'active';
  const clockEl = h('span', { class: 'countdown', role: 'timer' });
  const kind = kindOf(a.kind);
  const deadline = active ? (kind.deadline(a, state.results) || a.deadline_at) : null;
  if (deadline) stopCountdown = countdown(clockEl, deadline);
  fill(currentArea,
    h('h2', { id: 'current-heading' }, a.title, ' ', h('span', { class: 'kind-badge' }, kindName(a.kind))),
    h('p', { class: 'meta' }, t(`state.${a.state}`), ' · ', t('run.round', { round: a.round }), ' · ',
      a.results_visible ? t('run.results_shown') : t('run.results_hidden'),
      deadline ? [' · ', t('run.time_left'), ' ', clockEl] : null,
      a.activated_at ? [' · ', t('run.started_at', { time: time(a.activated_at) })] : null),
    h('p', { class: 'lead' }, rich(headline(a))),
    h('div', { class: 'toolbar' },
      active ? h('button', { type: 'button', class: 'button', onclick: () => act(() => control.close(a.id)) }, t('run.close')) : h('button', { type: 'button', class: 'button', onclick: () => act(() => control.activate(a)) }, t('run.reopen')),
      kind.alwaysRevealable || a.results_visibility === 'hidden' ? commandButton(a.results_revealed ? t('run.hide') : t('run.reveal'), a.results_revealed ? 'hide' : 'reveal', {}, 'primary') : null,
      active ? commandButton(t(kind.newRoundLabel), 'new_round') : null,
      active && a.deadline_at && !kind.ownDeadline ? h('button', { type: 'button', class: 'button secondary', 'aria-label': t('run.add_time_label'),
        onclick: () => act(() => control.command(a.id, 'add_time', { seconds: 30 })) }, t('run.add_time')) : null,
      active ? kindControls(a, state.results) : null),
    h('section', { class: 'run-results', 'aria-label': t('results.heading') },
      renderResults(a, state.results, 'organizer', (name, args) => act(() => control.command(a.id, name, args)))));
}

// "Joined", "online" and "removed" mean what the server says (docs/realtime.md): the list
// carries its counts with the dots, so the header, the badge and the dots agree. People go
// offline without an event, so the list is read again every 15 seconds.
async function loadParticipants() {
  try {
    const list = await api('GET', `/sessions/${sessionId}/participants?per_page=100`);
    state.participants = list.items;
    const changed = state.online !== list.online || (state.session && state.session.participant_count !== list.joined);
    state.online = list.online;
    if (state.session) state.session.participant_count = list.joined;
    if (changed) drawBar();
  } catch { /* shown on the next change */ }
  drawPeople();
}
setInterval(loadParticipants, 15000);

let peopleTimer = null;
function participantsChanged() {
  if (peopleTimer) return;
  peopleTimer = setTimeout(() => { peopleTimer = null; loadParticipants(); }, 1000);
}

function drawPeople() {
  const people = state.participants;
  fill(peopleArea,
    // Removed and banned people stay listed, marked, but are not counted.
    h('h2', { id: 'people-heading' }, t('run.participants'), ' ', h('span', { class: 'badge' },
      num(state.session ? state.session.participant_count : people.filter((p) => p.status === 'active').length))),
    h('div', { class: 'reaction-totals', 'aria-label': t('reactions.label') }, REACTIONS.map(([name, glyph]) => h('span', { class: 'reaction-total' },
      h('span', { 'aria-hidden': 'true' }, glyph), ' ', num(state.totals[name] || 0), h('span', { class: 'sr-only' }, ` ${t(`reaction.${name}`)}`)))),
    people.length ? h('ul', { class: 'people' }, people.map((p) => h('li', { class: `person ${p.status}` },
      p.status === 'active' ? [h('span', { class: `dot ${p.presence}`, title: t(`presence.${p.presence}`) }), h('span', { class: 'sr-only' }, t(`presence.${p.presence}`)), ' '] : null,
      h('span', { class: 'person-name', title: p.nickname }, p.nickname),
      p.status !== 'active' ? h('span', { class: 'badge' }, t(`participant.${p.status}`)) : h('span', { class: 'actions' },
        h('button', { type: 'button', class: 'button small secondary', 'aria-label': t('run.remove_named', { name: p.nickname }), onclick: () => removePerson(p, false) }, t('run.remove')),
        h('button', { type: 'button', class: 'button small danger', 'aria-label': t('run.ban_named', { name: p.nickname }), onclick: () => removePerson(p, true) }, t('run.ban')))))) : h('p', { class: 'empty' }, t('run.nobody')));
}

async function removePerson(p, ban) {
  if (!confirm(t(ban ? 'run.confirm_ban' : 'run.confirm_remove', { name: p.nickname }))) return;
  await act(async () => {
    await api('DELETE', `/sessions/${sessionId}/participants/${p.id}?ban=${ban}`);
    await loadParticipants();
  }, t(ban ? 'run.banned' : 'run.removed', { name: p.nickname }));
}

function drawAll() {
  drawBar();
  drawAgenda();
  drawCurrent();
}

follow(sessionId, null, {
  snapshot(d) {
    state.session = d.session;
    setTeams(d.session.teams);
    state.activity = d.activity;
    state.results = d.results;
    state.agenda = d.agenda || [];
    state.online = d.participants_online;
    state.totals = d.reactions || {};
    drawAll();
    followProgress();
    loadParticipants();
  },
  session(d) { state.session = d.session; setTeams(d.session.teams); drawBar(); drawAgenda(); drawCurrent(); followProgress(); },
  activity(d) {
    state.activity = d.activity;
    state.results = d.results;
    if (d.agenda) state.agenda = d.agenda;
    drawAgenda();
    drawCurrent();
  },
  results(d) {
    if (state.activity && state.activity.id === d.activity_id) {
      // Keep what the organizer is typing in a command field.
      const typing = document.activeElement && document.activeElement.tagName === 'INPUT' && currentArea.contains(document.activeElement);
      state.results = d.results;
      if (typing) return;
      drawCurrent();
    }
  },
  participants(d) {
    state.online = d.participants_online;
    if (state.session) state.session.participant_count = d.participant_count;
    drawBar();
    participantsChanged();
  },
  reactions(d) { state.totals = d.totals || state.totals; drawPeople(); },
}, (s) => { state.connection = s; drawBar(); });
