// A rating: a column per value with the mean and median; on a phone, the scale.
// See docs/activity-kinds.md for what a kind's module may provide.

import { h, t, num, srOnly } from '../lib.js';
import { rich } from '../rich.js';
import { stat, sendButton, status, confirm, choiceList, picked, latest } from './parts.js';

export default {
  results(activity, r) {
    const max = Math.max(1, ...r.distribution.map((d) => d.count));
    return h('div', { class: 'results rating' },
      h('ol', { class: 'columns' }, r.distribution.map((d, i) => h('li', { class: 'column' },
        h('span', { class: 'column-count' }, num(d.count)),
        h('span', { class: 'column-track', 'aria-hidden': 'true' },
          h('span', { class: `column-fill c${i % 8}`, style: { height: `${(100 * d.count) / max}%` } })),
        h('span', { class: 'column-label' }, d.label || String(d.value)),
        srOnly(` ${t('results.count_percent', { count: d.count, percent: num(d.percent, 1) })}`)))),
      h('div', { class: 'stats' },
        stat(t('rating.mean'), r.mean === null ? '–' : num(r.mean, 2)),
        stat(t('rating.median'), r.median === null ? '–' : num(r.median, 1)),
        stat(t('rating.voters'), num(r.total_voters))));
  },

  input({ activity, mine, submit }) {
    const c = activity.config;
    const before = latest(mine);
    const st = status();
    const values = [];
    for (let v = c.min ?? 1; v <= (c.max ?? 5); v++) values.push(v);
    const labels = values.map((v, i) => (c.labels && c.labels[i] ? `${v} · ${c.labels[i]}` : String(v)));
    const form = h('form', { class: 'stack answer' },
      h('fieldset', {}, h('legend', {}, rich(c.question)),
        h('div', { class: 'scale' }, choiceList('rating', labels, false, before ? [before.value - (c.min ?? 1)] : [], false))), st);
    const btn = sendButton(t('phone.send'), async () => {
      const [i] = picked(form, 'rating');
      if (i === undefined) throw new Error(t('rating.pick_one'));
      await submit({ value: values[i] });
      confirm(st, t('phone.rating_counted'));
    }, st);
    form.append(btn);
    form.addEventListener('submit', (e) => { e.preventDefault(); btn.run(); });
    if (before) confirm(st, t('phone.rating_counted'));
    return form;
  },
};
