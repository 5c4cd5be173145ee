// 100 points: each option's mean allocation as a bar; on a phone, a number per option with
// − and + and what is left to give, sent when every point is given.
// See docs/activity-kinds.md for what a kind's module may provide.

import { h, t, num, srOnly } from '../lib.js';
import { rich } from '../rich.js';
import { sendButton, status, confirm, latest, tiles } from './parts.js';

export default {
  /** The big screen while results are hidden: the options, so the room can read them. */
  waiting(activity) {
    return h('div', {}, tiles(activity.config.options),
      h('p', { class: 'muted center' }, t('present.results_hidden')));
  },

  results(activity, r) {
    const top = Math.max(1, ...r.options.map((o) => o.mean || 0));
    return h('div', { class: 'results points' },
      h('ol', { class: 'bars' }, r.options.map((o, i) => h('li', { class: 'bar' },
        h('span', { class: 'bar-label' }, rich(o.label)),
        h('span', { class: 'bar-track', 'aria-hidden': 'true' },
          h('span', { class: `bar-fill c${i % 8}`, style: { width: `${(100 * (o.mean || 0)) / top}%` } })),
        h('span', { class: 'bar-value' }, t('points.mean', { mean: o.mean === null ? '–' : num(o.mean, 1) }),
          srOnly(` (${t('points.share', { percent: num(o.percent, 1) })})`))))),
      h('p', { class: 'total' }, t('results.voters', { count: r.total_voters }), ' · ', t('points.budget', { budget: num(r.budget) })));
  },

  input({ activity, mine, submit }) {
    const c = activity.config;
    const budget = c.budget || 100;
    const step = Math.max(1, Math.round(budget / 20));
    const before = latest(mine);
    const given = before ? [...before.points] : c.options.map(() => 0);
    const st = status();
    const left = h('p', { class: 'points-left', role: 'status', 'aria-live': 'polite' });
    const fields = [];
    const update = () => {
      const rest = budget - given.reduce((a, b) => a + b, 0);
      left.textContent = rest >= 0 ? t('points.left', { count: rest }) : t('points.over', { count: -rest });
      left.classList.toggle('done', rest === 0);
      left.classList.toggle('over', rest < 0);
      fields.forEach((f, i) => { if (Number(f.value) !== given[i]) f.value = String(given[i]); });
    };
    const rows = c.options.map((option, i) => {
      const id = `points-${i}`;
      const field = h('input', {
        type: 'number', id, min: '0', max: String(budget), step: '1', inputmode: 'numeric', value: String(given[i]),
        oninput: () => { given[i] = Math.max(0, Math.min(budget, Math.round(Number(field.value) || 0))); update(); },
      });
      fields.push(field);
      const by = (delta) => h('button', {
        type: 'button', class: 'button small secondary', 'aria-label': t(delta < 0 ? 'points.less' : 'points.more', { option, step }),
        onclick: () => { given[i] = Math.max(0, Math.min(budget, given[i] + delta)); update(); },
      }, delta < 0 ? '−' : '+');
      return h('div', { class: 'points-row' },
        h('label', { for: id, class: 'points-label' }, rich(option)),
        by(-step), field, by(step));
    });
    const form = h('form', { class: 'stack answer points-input' },
      h('fieldset', {}, h('legend', {}, rich(c.question), h('span', { class: 'hint' }, ' ', t('points.how', { budget: num(budget) }))), rows), left, st);
    const btn = sendButton(before ? t('points.send_again') : t('points.send'), async () => {
      await submit({ points: given });
      confirm(st, t('points.counted'));
    }, st);
    form.append(btn);
    form.addEventListener('submit', (e) => { e.preventDefault(); btn.run(); });
    update();
    if (before) confirm(st, t('points.counted'));
    return form;
  },
};
