// The report: participants, attendance over time, participation and time to answer per
// activity, per activity and round the results as charts (each also as text), reactions per
// minute, the questions asked, the CSV and JSON exports, and removing names and texts.

import { h, t, fill, api, errorText, setupHeader, mainArea, kindName, num, time } from './lib.js';
import { renderResults, REACTIONS, setTeams } from './kinds.js';

setupHeader();
const sessionId = document.body.dataset.session;
const main = mainArea();
const title = document.getElementById('page-title');

function stat(label, value) {
  return h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label));
}

function reactionChart(history) {
  const minutes = history.minutes || [];
  if (!minutes.length) return h('p', { class: 'empty' }, t('report.no_reactions'));
  const sums = minutes.map((m) => Object.values(m.counts).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...sums);
  return h('div', {},
    h('p', { class: 'reaction-totals' }, REACTIONS.map(([name, glyph]) => h('span', { class: 'reaction-total' },
      h('span', { 'aria-hidden': 'true' }, glyph), ' ', num(history.totals[name] || 0), h('span', { class: 'sr-only' }, ` ${t(`reaction.${name}`)}`)))),
    h('ol', { class: 'columns minutes' }, minutes.map((m, i) => h('li', { class: 'column' },
      h('span', { class: 'column-count' }, num(sums[i])),
      h('span', { class: 'column-track', 'aria-hidden': 'true' }, h('span', { class: 'column-fill c0', style: { height: `${(100 * sums[i]) / max}%` } })),
      h('span', { class: 'column-label' }, time(m.minute)),
      h('span', { class: 'sr-only' }, ` ${REACTIONS.filter(([n]) => m.counts[n]).map(([n]) => `${t(`reaction.${n}`)} ${m.counts[n]}`).join(', ')}`)))));
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element; attributes are set as given, children appended. */
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) el.setAttribute(name, String(value));
  for (const child of children.flat()) if (child !== null && child !== undefined) el.append(child);
  return el;
}

/** People over time: joined so far (the join curve) and present, as two lines. */
function attendanceChart(analytics) {
  const buckets = analytics.timeline.length > 1 ? analytics.timeline : [...analytics.timeline, ...analytics.timeline];
  const [width, height, left, bottom, top] = [800, 200, 44, 26, 10];
  const max = Math.max(1, ...buckets.map((b) => b.joined_total));
  const x = (i) => left + ((width - left - 8) * i) / (buckets.length - 1);
  const y = (n) => top + (height - top - bottom) * (1 - n / max);
  const line = (field) => buckets.map((b, i) => `${x(i).toFixed(1)},${y(b[field]).toFixed(1)}`).join(' ');
  const label = (i, anchor) => svg('text', { x: x(i), y: height - 6, 'text-anchor': anchor, class: 'axis' }, time(buckets[i].at));
  const summary = t('report.attendance_summary', { joined: num(analytics.participants), peak: num(analytics.peak_concurrent) });
  return h('figure', { class: 'line-chart' },
    svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary },
      svg('line', { x1: left, x2: width - 8, y1: y(0), y2: y(0), class: 'grid' }),
      svg('line', { x1: left, x2: width - 8, y1: y(max), y2: y(max), class: 'grid' }),
      svg('text', { x: left - 6, y: y(0) + 4, 'text-anchor': 'end', class: 'axis' }, '0'),
      svg('text', { x: left - 6, y: y(max) + 4, 'text-anchor': 'end', class: 'axis' }, num(max)),
      svg('polyline', { points: line('joined_total'), class: 'series joined' }),
      svg('polyline', { points: line('present'), class: 'series present' }),
      label(0, 'start'), buckets.length > 2 ? label(Math.floor((buckets.length - 1) / 2), 'middle') : null, label(buckets.length - 1, 'end')),
    h('figcaption', { class: 'legend' },
      h('span', { class: 'swatch joined', 'aria-hidden': 'true' }), t('report.joined_so_far'), ' ',
      h('span', { class: 'swatch present', 'aria-hidden': 'true' }), t('report.present')));
}

function attendance(analytics) {
  return h('section', { class: 'card', 'aria-labelledby': 'attendance-heading' },
    h('h2', { id: 'attendance-heading' }, t('report.attendance')),
    h('div', { class: 'stats' },
      stat(t('report.joined'), num(analytics.participants)),
      stat(t('report.peak'), num(analytics.peak_concurrent)),
      stat(t('report.average'), num(analytics.average_concurrent, 1)),
      stat(t('report.engagement'), `${num(analytics.engagement_rate, 1)}%`)),
    attendanceChart(analytics),
    h('p', { class: 'toolbar' }, ['timeline', 'activities', 'questions'].map((table) =>
      h('a', { class: 'button small secondary', href: `/api/v1/sessions/${sessionId}/analytics/${table}.csv`, download: '' }, t(`report.csv_${table}`)))));
}

/** Median and 90th percentile of the time to answer, per activity. */
function answerTimes(analytics) {
  const timed = analytics.activities.filter((a) => a.time_to_answer);
  if (!timed.length) return null;
  const max = Math.max(1, ...timed.map((a) => a.time_to_answer.p90_ms));
  const s = (ms) => num(ms / 1000, 1);
  return h('section', { class: 'card', 'aria-labelledby': 'times-heading' },
    h('h2', { id: 'times-heading' }, t('report.time_to_answer')),
    h('ul', { class: 'bars participation answer-times' }, timed.map((a) => h('li', { class: 'bar' },
      h('span', { class: 'bar-label' }, `${a.position}. ${a.title}`),
      h('span', { class: 'bar-track', 'aria-hidden': 'true' },
        h('span', { class: 'bar-fill c3', style: { width: `${(100 * a.time_to_answer.median_ms) / max}%` } })),
      h('span', { class: 'bar-value' }, t('report.answer_times', { median: s(a.time_to_answer.median_ms), p90: s(a.time_to_answer.p90_ms) }))))));
}

function participation(analytics) {
  const ran = analytics.activities.filter((a) => a.rounds > 0);
  if (!ran.length) return null;
  return h('section', { class: 'card', 'aria-labelledby': 'participation-heading' },
    h('h2', { id: 'participation-heading' }, t('report.participation_heading')),
    h('ul', { class: 'bars participation' }, ran.map((a) => h('li', { class: 'bar' },
      h('span', { class: 'bar-label' }, `${a.position}. ${a.title}`),
      h('span', { class: 'bar-track', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill c0', style: { width: `${a.participation_rate}%` } })),
      h('span', { class: 'bar-value' }, t('report.took_part', { rate: num(a.participation_rate, 1), count: a.respondents }))))));
}

function questions(analytics) {
  if (!analytics.questions.length) return null;
  return h('section', { class: 'card', 'aria-labelledby': 'questions-heading' },
    h('h2', { id: 'questions-heading' }, t('report.questions')),
    h('ol', { class: 'asked' }, analytics.questions.map((q) => h('li', {},
      q.text, ' ', h('span', { class: 'badge' }, t('report.votes', { count: q.votes }))))));
}

function privacy(session) {
  if (session.anonymized_at) {
    return h('p', { class: 'notice info', id: 'anonymized' }, t('report.anonymized', { time: new Date(session.anonymized_at).toLocaleString() }));
  }
  if (session.status !== 'completed') return null;
  const button = h('button', { type: 'button', class: 'button secondary', id: 'anonymize' }, t('report.anonymize'));
  button.addEventListener('click', async () => {
    if (!confirm(t('report.confirm_anonymize'))) return;
    try {
      await api('POST', `/sessions/${sessionId}/anonymize`);
      await start();
    } catch (e) { fill(main, title, h('p', { class: 'notice error' }, errorText(e))); }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'privacy-heading' },
    h('h2', { id: 'privacy-heading' }, t('report.privacy')), h('p', { class: 'muted' }, t('report.anonymize_help')), button);
}

async function start() {
  const [summary, list, reactions, analytics] = await Promise.all([
    api('GET', `/sessions/${sessionId}/summary`),
    api('GET', `/sessions/${sessionId}/activities`),
    api('GET', `/sessions/${sessionId}/reactions`).catch(() => ({ totals: {}, minutes: [] })),
    api('GET', `/sessions/${sessionId}/analytics`),
  ]);
  const configs = new Map(list.items.map((a) => [a.id, a]));
  const s = summary.session;
  setTeams(s.teams);
  title.textContent = t('report.heading', { title: s.title });
  document.title = `${t('report.title')}: ${s.title} · Conflicto`;
  const p = summary.participants;
  fill(main, title,
    h('p', { class: 'meta' }, h('span', { class: `status status-${s.status}` }, t(`session.${s.status}`)),
      s.started_at ? ` · ${t('report.started', { time: new Date(s.started_at).toLocaleString() })}` : ''),
    h('div', { class: 'toolbar' },
      h('a', { class: 'button', href: `/api/v1/sessions/${sessionId}/export.xlsx`, download: '' }, t('report.export_xlsx')),
      h('a', { class: 'button secondary', href: `/api/v1/sessions/${sessionId}/export.csv`, download: '' }, t('report.export_csv')),
      h('a', { class: 'button secondary', href: `/api/v1/sessions/${sessionId}/export.json`, download: '' }, t('report.export_json'))),
    h('section', { class: 'card' }, h('h2', {}, t('report.participants')),
      h('div', { class: 'stats' }, stat(t('report.joined'), num(p.total)), stat(t('report.active'), num(p.active)),
        stat(t('report.removed'), num(p.removed)), stat(t('report.banned'), num(p.banned)))),
    attendance(analytics),
    participation(analytics),
    answerTimes(analytics),
    h('section', { class: 'card' }, h('h2', {}, t('report.reactions')), reactionChart(reactions)),
    questions(analytics),
    summary.activities.map((a) => {
      const full = configs.get(a.id) || { config: {} };
      return h('section', { class: 'card report-activity' },
        h('h2', {}, `${a.position}. ${a.title} `, h('span', { class: 'kind-badge' }, kindName(a.kind))),
        a.rounds.length ? a.rounds.map((r) => h('div', { class: 'round' },
          a.rounds.length > 1 ? h('h3', {}, t('run.round', { round: r.round })) : null,
          h('p', { class: 'meta' }, t('report.participation', { respondents: num(r.respondents), rate: num(r.participation_rate, 1) })),
          renderResults({ ...full, kind: a.kind, results_visible: true }, r.results, 'report'))) : h('p', { class: 'empty' }, t('report.not_run')));
    }),
    privacy(s));
}

start().catch((error) => fill(main, title, h('p', { class: 'notice error' }, errorText(error))));
