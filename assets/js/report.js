// The report: participants, per activity and round the participation and results as charts
// (each also as text), reactions per minute, and the CSV and JSON exports.

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

async function start() {
  const [summary, list, reactions] = await Promise.all([
    api('GET', `/sessions/${sessionId}/summary`),
    api('GET', `/sessions/${sessionId}/activities`),
    api('GET', `/sessions/${sessionId}/reactions`).catch(() => ({ totals: {}, minutes: [] })),
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
    h('section', { class: 'card' }, h('h2', {}, t('report.reactions')), reactionChart(reactions)),
    summary.activities.map((a) => {
      const full = configs.get(a.id) || { config: {} };
      return h('section', { class: 'card report-activity' },
        h('h2', {}, `${a.position}. ${a.title} `, h('span', { class: 'kind-badge' }, kindName(a.kind))),
        a.rounds.length ? a.rounds.map((r) => h('div', { class: 'round' },
          a.rounds.length > 1 ? h('h3', {}, t('run.round', { round: r.round })) : null,
          h('p', { class: 'meta' }, t('report.participation', { respondents: num(r.respondents), rate: num(r.participation_rate, 1) })),
          renderResults({ ...full, kind: a.kind, results_visible: true }, r.results, 'report'))) : h('p', { class: 'empty' }, t('report.not_run')));
    }));
}

start().catch((error) => fill(main, title, h('p', { class: 'notice error' }, errorText(error))));
