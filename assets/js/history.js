// The organizer's history: engagement per event over time as a chart and a table, and two
// runs side by side (activity by activity, matched by template key). Each also as CSV.

import { h, t, fill, api, errorText, setupHeader, mainArea, num, notice } from './lib.js';

setupHeader();
const main = mainArea();
const title = document.getElementById('page-title');
const message = h('p', { class: 'notice', role: 'status', hidden: true });
const chartArea = h('section', { class: 'card', 'aria-labelledby': 'engagement-heading' });
const tableArea = h('section', { 'aria-labelledby': 'events-heading' });
const compareArea = h('section', { class: 'card', 'aria-labelledby': 'compare-heading' });
const comparison = h('div', { class: 'comparison', 'aria-live': 'polite' });

const day = (iso) => new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });

function engagementChart(items) {
  const shown = items.slice(-24);
  return h('ol', { class: 'columns history-chart' }, shown.map((e) => h('li', { class: 'column' },
    h('span', { class: 'column-count' }, `${num(e.engagement_rate, 0)}%`),
    h('span', { class: 'column-track', 'aria-hidden': 'true' },
      h('span', { class: 'column-fill c1', style: { height: `${Math.max(2, e.engagement_rate)}%` } })),
    h('span', { class: 'column-label' }, day(e.at)),
    h('span', { class: 'column-sub' }, t('history.people', { count: e.participants })),
    h('span', { class: 'sr-only' }, ` ${e.title}: ${t('history.engagement_of', { rate: num(e.engagement_rate, 1), count: e.participants })}`))));
}

function eventsTable(items) {
  const newest = [...items].reverse();
  return h('table', { class: 'table-list events' },
    h('caption', { class: 'sr-only' }, t('history.events')),
    h('thead', {}, h('tr', {}, ['history.col_event', 'history.col_date', 'history.col_people', 'history.col_engagement', 'history.col_answers', 'history.col_reactions', 'history.col_template']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, newest.map((e) => h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: `/organizer/sessions/${e.session_id}/report` }, e.title)),
      h('td', {}, new Date(e.at).toLocaleDateString()),
      h('td', {}, num(e.participants)),
      h('td', {}, `${num(e.engagement_rate, 1)}%`),
      h('td', {}, `${num(e.answers)} (${num(e.answers_per_participant, 1)})`),
      h('td', {}, num(e.reactions)),
      h('td', {}, e.template ? t('history.template_version', { n: e.template.version }) + (e.template.variant ? ` · ${e.template.variant}` : '') : '–')))));
}

const seconds = (a) => (a && a.time_to_answer ? `${num(a.time_to_answer.median_ms / 1000, 1)} s` : '–');
const rate = (a) => (a ? `${num(a.participation_rate, 1)}%` : '–');

function bar(a, cls) {
  return h('span', { class: 'bar-track small', 'aria-hidden': 'true' },
    h('span', { class: `bar-fill ${cls}`, style: { width: `${a ? a.participation_rate : 0}%` } }));
}

function drawComparison(result) {
  const { a, b } = result;
  fill(comparison,
    result.same_template_version ? null : h('p', { class: 'notice info' }, t('history.not_same_version')),
    h('table', { class: 'table-list compare-table' },
      h('caption', { class: 'sr-only' }, t('history.compare')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('history.col_activity')),
        h('th', { scope: 'col' }, `${a.title} (${t('history.participation')})`),
        h('th', { scope: 'col' }, `${b.title} (${t('history.participation')})`),
        h('th', { scope: 'col' }, t('history.median_time')))),
      h('tbody', {},
        h('tr', { class: 'compare-total' },
          h('th', { scope: 'row' }, t('history.whole_event')),
          h('td', {}, t('history.engagement_of', { rate: num(a.engagement_rate, 1), count: a.participants })),
          h('td', {}, t('history.engagement_of', { rate: num(b.engagement_rate, 1), count: b.participants })),
          h('td', {}, '')),
        result.activities.map((row) => h('tr', {},
          h('th', { scope: 'row' }, row.title),
          h('td', {}, bar(row.a, 'c0'), ' ', rate(row.a)),
          h('td', {}, bar(row.b, 'c1'), ' ', rate(row.b)),
          h('td', {}, `${seconds(row.a)} / ${seconds(row.b)}`))))),
    h('p', {}, h('a', { class: 'button secondary small', href: `/api/v1/analytics/compare.csv?a=${a.session_id}&b=${b.session_id}`, download: '' }, t('history.download_compare'))));
}

function compareForm(items) {
  const options = () => [...items].reverse().map((e) => h('option', { value: e.session_id }, `${e.title} · ${day(e.at)}`));
  const first = h('select', { id: 'compare-a' }, options());
  const second = h('select', { id: 'compare-b' }, options());
  if (items.length > 1) second.selectedIndex = 1;
  const form = h('form', { class: 'row', id: 'compare-form' },
    h('div', { class: 'field grow' }, h('label', { for: 'compare-a' }, t('history.run_a')), first),
    h('div', { class: 'field grow' }, h('label', { for: 'compare-b' }, t('history.run_b')), second),
    h('button', { type: 'submit', class: 'button' }, t('history.compare_button')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      drawComparison(await api('GET', `/analytics/compare?a=${first.value}&b=${second.value}`));
    } catch (e) { notice(message, errorText(e), 'error'); }
  });
  return form;
}

async function load() {
  const data = await api('GET', '/analytics/sessions');
  const items = data.items;
  if (!items.length) {
    fill(chartArea, h('h2', { id: 'engagement-heading' }, t('history.engagement')), h('p', { class: 'empty' }, t('history.none')));
    return;
  }
  fill(chartArea, h('h2', { id: 'engagement-heading' }, t('history.engagement')),
    h('p', { class: 'muted' }, t('history.engagement_help')), engagementChart(items),
    h('a', { class: 'button secondary small', href: '/api/v1/analytics/sessions.csv', download: '' }, t('history.download')));
  fill(tableArea, h('h2', { id: 'events-heading' }, t('history.events')), eventsTable(items));
  fill(compareArea, h('h2', { id: 'compare-heading' }, t('history.compare')),
    h('p', { class: 'muted' }, t('history.compare_help')), compareForm(items), comparison);
}

fill(main, title, message, chartArea, tableArea, compareArea);
load().catch((e) => notice(message, errorText(e), 'error'));
