// A ranking: the items in their standing, each with its score, average position and how
// often it landed in each place; on a phone, the items to put in order with up and down.
// See docs/activity-kinds.md for what a kind's module may provide.

import { h, t, num, srOnly, announce } from '../lib.js';
import { rich } from '../rich.js';
import { sendButton, status, confirm, latest, tiles, rows } from './parts.js';

/** The colour of place `p` (from 0) among `n`: the first places strongest. */
function placeTone(p, n) {
  const strength = Math.round(100 - (70 * p) / Math.max(1, n - 1));
  return { background: `color-mix(in srgb, var(--place) ${strength}%, var(--place-base))` };
}

export default {
  /** The big screen while results are hidden: the items, so the room can read them. */
  waiting(activity) {
    return h('div', {}, tiles(activity.config.items),
      h('p', { class: 'muted center' }, t('present.results_hidden')));
  },

  results(activity, r) {
    const n = r.items.length;
    return h('div', { class: 'results ranking' },
      rows(h('ol', { class: n > 6 ? 'ranked many' : 'ranked' }, r.items.map((item) => h('li', { class: 'ranked-item' },
        h('span', { class: 'ranked-place', 'aria-hidden': 'true' }, num(item.rank)),
        h('span', { class: 'ranked-label' }, srOnly(`${t('ranking.place', { rank: item.rank })}: `), rich(item.label)),
        h('span', { class: 'ranked-figures' },
          h('strong', {}, t('ranking.score', { score: num(item.borda) })), ' · ',
          t('ranking.average', { position: item.average_position === null ? '–' : num(item.average_position, 2) })),
        h('span', { class: 'positions', role: 'img', 'aria-label': item.positions.map((p) => t('ranking.in_place', { count: p.count, place: p.position })).join(', ') },
          item.positions.map((p, i) => (p.count ? h('span', { class: 'position', style: { width: `${p.percent}%`, ...placeTone(i, n) }, title: t('ranking.in_place', { count: p.count, place: p.position }) },
            p.percent >= 8 ? String(p.position) : '') : null)))))), n),
      h('p', { class: 'total' }, t('results.voters', { count: r.total_voters }), ' · ', t('ranking.legend', { n })));
  },

  input({ activity, mine, submit }) {
    const c = activity.config;
    const before = latest(mine);
    let order = before ? [...before.order] : c.items.map((_, i) => i);
    const st = status();
    const list = h('ol', { class: 'rank-input' });
    const draw = (focus) => {
      list.replaceChildren(...order.map((item, at) => {
        const move = (by, label) => h('button', {
          type: 'button', class: 'button small secondary', disabled: at + by < 0 || at + by >= order.length,
          'aria-label': t(label, { item: c.items[item] }),
          onclick: () => {
            [order[at], order[at + by]] = [order[at + by], order[at]];
            draw({ item, up: by < 0 });
            announce(t('ranking.moved', { item: c.items[item], place: at + by + 1 }));
          },
        }, by < 0 ? '▲' : '▼');
        return h('li', { class: 'rank-row', 'data-item': String(item) },
          h('span', { class: 'rank-place', 'aria-hidden': 'true' }, String(at + 1)),
          h('span', { class: 'rank-label' }, rich(c.items[item])),
          move(-1, 'ranking.up'), move(1, 'ranking.down'));
      }));
      if (focus) {
        const row = list.querySelector(`[data-item="${focus.item}"]`);
        const buttons = row ? row.querySelectorAll('button') : [];
        const target = [...buttons].find((b) => !b.disabled && (b.textContent === '▲') === focus.up) || [...buttons].find((b) => !b.disabled);
        if (target) target.focus();
      }
    };
    draw();
    const form = h('form', { class: 'stack answer' },
      h('fieldset', {}, h('legend', {}, rich(c.question), h('span', { class: 'hint' }, ' ', t('ranking.how'))), list), st);
    const btn = sendButton(before ? t('ranking.send_again') : t('ranking.send'), async () => {
      await submit({ order });
      confirm(st, t('ranking.counted'));
    }, st);
    form.append(btn);
    form.addEventListener('submit', (e) => { e.preventDefault(); btn.run(); });
    if (before) confirm(st, t('ranking.counted'));
    return form;
  },
};
