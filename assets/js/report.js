// The report: participants, attendance over time, participation and time to answer per
// activity, per activity and round the results as charts (each also as text), reactions per
// minute, the questions asked, the CSV and JSON exports, and removing names and texts.

import { h, t, fill, api, errorText, setupHeader, mainArea, kindName, num, time } from './lib.js';
import { renderResults, REACTIONS } from './kinds.js';

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

// At most this many columns in the attendance chart; longer timelines are merged.
const ATTENDANCE_COLUMNS = 48;

function attendance(analytics) {
  const buckets = analytics.timeline;
  const group = Math.max(1, Math.ceil(buckets.length / ATTENDANCE_COLUMNS));
  const columns = [];
  for (let i = 0; i < buckets.length; i += group) {
    const part = buckets.slice(i, i + group);
    columns.push({ at: part[0].at, present: Math.max(...part.map((b) => b.present)), answers: part.reduce((n, b) => n + b.answers, 0) });
  }
  const max = Math.max(1, ...columns.map((c) => c.present));
  return h('section', { class: 'card', 'aria-labelledby': 'attendance-heading' },
    h('h2', { id: 'attendance-heading' }, t('report.attendance')),
    h('div', { class: 'stats' },
      stat(t('report.joined'), num(analytics.participants)),
      stat(t('report.peak'), num(analytics.peak_concurrent)),
      stat(t('report.average'), num(analytics.average_concurrent, 1)),
      stat(t('report.engagement'), `${num(analytics.engagement_rate, 1)}%`)),
    h('ol', { class: 'columns minutes attendance' }, columns.map((c) => h('li', { class: 'column' },
      h('span', { class: 'column-count' }, num(c.present)),
      h('span', { class: 'column-track', 'aria-hidden': 'true' }, h('span', { class: 'column-fill c5', style: { height: `${(100 * c.present) / max}%` } })),
      h('span', { class: 'column-label' }, time(c.at)),
      h('span', { class: 'sr-only' }, ` ${t('report.present_at', { count: num(c.present), answers: num(c.answers) })}`)))),
    h('p', { class: 'toolbar' }, ['timeline', 'activities', 'questions'].map((table) =>
      h('a', { class: 'button small secondary', href: `/api/v1/sessions/${sessionId}/analytics/${table}.csv`, download: '' }, t(`report.csv_${table}`)))));
}

function participation(analytics) {
  const ran = analytics.activities.filter((a) => a.rounds > 0);
  if (!ran.length) return null;
  return h('section', { class: 'card', 'aria-labelledby': 'participation-heading' },
    h('h2', { id: 'participation-heading' }, t('report.participation_heading')),
    h('ul', { class: 'bars participation' }, ran.map((a) => h('li', { class: 'bar' },
      h('span', { class: 'bar-label' }, `${a.position}. ${a.title}`),
      h('span', { class: 'bar-track', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill c0', style: { width: `${a.participation_rate}%` } })),
      h('span', { class: 'bar-value' }, `${num(a.participation_rate, 1)}%`,
        a.time_to_answer ? h('span', { class: 'muted' }, ` · ${t('report.median_time', { seconds: num(a.time_to_answer.median_ms / 1000, 1) })}`) : null)))));
}

function questions(analytics) {
  if (!analytics.questions.length) return null;
  return h('section', { class: 'card', 'aria-labelledby': 'questions-heading' },
    h('h2', { id: 'questions-heading' }, t('report.questions')),
    h('ol', { class: 'asked' }, analytics.questions.map((q) => h('li', {},
      q.text, ' ', h('span', { class: 'badge' }, t('report.votes', { count: num(q.votes) }))))));
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
  title.textContent = t('report.heading', { title: s.title });
  document.title = `${t('report.title')}: ${s.title} · Conflicto`;
  const p = summary.participants;
  fill(main, title,
    h('p', { class: 'meta' }, h('span', { class: `status status-${s.status}` }, t(`session.${s.status}`)),
      s.started_at ? ` · ${t('report.started', { time: new Date(s.started_at).toLocaleString() })}` : ''),
    h('div', { class: 'toolbar' },
      h('a', { class: 'button', href: `/api/v1/sessions/${sessionId}/export.csv`, download: '' }, t('report.export_csv')),
      h('a', { class: 'button secondary', href: `/api/v1/sessions/${sessionId}/export.json`, download: '' }, t('report.export_json'))),
    h('section', { class: 'card' }, h('h2', {}, t('report.participants')),
      h('div', { class: 'stats' }, stat(t('report.joined'), num(p.total)), stat(t('report.active'), num(p.active)),
        stat(t('report.removed'), num(p.removed)), stat(t('report.banned'), num(p.banned)))),
    attendance(analytics),
    participation(analytics),
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
