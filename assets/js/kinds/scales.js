// Scales: every statement as a diverging stacked bar around the scale's middle (disagreement
// to the left, agreement to the right), with its mean and median; on a phone, one row of
// values per statement, any of which may be skipped.
// See docs/activity-kinds.md for what a kind's module may provide.

import { h, t, num, srOnly } from '../lib.js';
import { rich } from '../rich.js';
import { sendButton, status, confirm, latest, tiles, rows } from './parts.js';

/** Value `v` of `steps` on a red–grey–green scale; the middle is grey. */
function tone(v, steps) {
  const x = (v - 1) / (steps - 1) - 0.5; // −0.5 … 0.5
  if (Math.abs(x) < 1e-9) return { background: 'var(--scale-mid)' };
  const strength = Math.round(45 + 110 * Math.abs(x)); // 50 … 100
  return { background: `color-mix(in srgb, var(${x < 0 ? '--scale-low' : '--scale-high'}) ${strength}%, var(--scale-mid))` };
}

/** The label of value `v`, or the value itself. */
function labelOf(r, v) {
  return (r.labels && r.labels[v - 1]) || String(v);
}

/** One statement's bar: its share below the middle to the left of the centre line. */
function diverging(r, statement) {
  const steps = r.steps;
  const mid = (steps + 1) / 2;
  const share = (d) => d.percent / 2; // each side spans half the track
  const left = statement.distribution.reduce((sum, d) => sum + (d.value < mid ? share(d) : d.value === mid ? share(d) / 2 : 0), 0);
  return h('span', { class: 'diverging', 'aria-hidden': 'true' },
    h('span', { class: 'diverging-bar', style: { marginLeft: `${50 - left}%` } },
      statement.distribution.map((d) => (d.count ? h('span', { class: 'segment', style: { width: `${share(d)}%`, ...tone(d.value, steps) }, title: `${labelOf(r, d.value)}: ${num(d.count)}` },
        share(d) >= 4 ? num(d.percent) : '') : null))),
    h('span', { class: 'diverging-centre' }));
}

export default {
  /** The big screen while results are hidden: the statements, so the room can read them. */
  waiting(activity) {
    return h('div', {}, tiles(activity.config.statements),
      h('p', { class: 'muted center' }, t('present.results_hidden')));
  },

  results(activity, r) {
    const values = Array.from({ length: r.steps }, (_, i) => i + 1);
    return h('div', { class: 'results scales' },
      rows(h('ol', { class: r.statements.length > 6 ? 'statements many' : 'statements' }, r.statements.map((s) => h('li', { class: 'statement' },
        h('span', { class: 'statement-label' }, rich(s.label)),
        diverging(r, s),
        h('span', { class: 'statement-figures' },
          t('scales.mean', { mean: s.mean === null ? '–' : num(s.mean, 2) }), ' · ',
          t('scales.median', { median: s.median === null ? '–' : num(s.median, 1) }),
          srOnly(` · ${s.distribution.map((d) => `${labelOf(r, d.value)}: ${t('results.count_percent', { count: d.count, percent: num(d.percent, 1) })}`).join(', ')}`))))), r.statements.length),
      h('ul', { class: 'scale-legend', 'aria-hidden': 'true' }, values.map((v) => h('li', {},
        h('span', { class: 'scale-swatch', style: tone(v, r.steps) }), labelOf(r, v)))),
      h('p', { class: 'total' }, t('results.voters', { count: r.total_voters })));
  },

  input({ activity, mine, submit }) {
    const c = activity.config;
    const steps = c.steps || 5;
    const before = latest(mine);
    const st = status();
    const values = Array.from({ length: steps }, (_, i) => i + 1);
    const ends = c.labels ? h('p', { class: 'scale-ends', 'aria-hidden': 'true' },
      h('span', {}, `1 · ${c.labels[0] || ''}`), h('span', {}, `${c.labels[steps - 1] || ''} · ${steps}`)) : null;
    const rows = c.statements.map((statement, s) => h('fieldset', { class: 'scale-row' },
      h('legend', {}, rich(statement)),
      h('div', { class: `scale-values steps-${steps}` }, values.map((v) => {
        const id = `scale-${s}-${v}`;
        const chosen = before && before.values[s] === v;
        return h('span', { class: 'scale-value' },
          h('input', { type: 'radio', name: `scale-${s}`, id, value: String(v), checked: chosen }),
          h('label', { for: id }, String(v), c.labels && c.labels[v - 1] ? srOnly(` ${c.labels[v - 1]}`) : null));
      }))));
    const form = h('form', { class: 'stack answer scales-input' },
      h('p', { class: 'scales-question' }, rich(c.question)), h('p', { class: 'hint' }, t('scales.how')), ends, rows, st);
    const btn = sendButton(before ? t('scales.send_again') : t('scales.send'), async () => {
      const answer = c.statements.map((_, s) => {
        const picked = form.querySelector(`input[name="scale-${s}"]:checked`);
        return picked ? Number(picked.value) : null;
      });
      if (answer.every((v) => v === null)) throw new Error(t('scales.pick_one'));
      await submit({ values: answer });
      confirm(st, t('scales.counted'));
    }, st);
    form.append(btn);
    form.addEventListener('submit', (e) => { e.preventDefault(); btn.run(); });
    if (before) confirm(st, t('scales.counted'));
    return form;
  },
};
