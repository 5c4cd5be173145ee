// The test build's toy kind (tests/toy_kind/toy.rs): heads or tails. Only its own module
// and locale keys make it work on every page.

import { h, t } from '../lib.js';
import { bars, status, confirm, latest } from './parts.js';

const SIDES = ['heads', 'tails'];

export default {
  results(activity, r) {
    const total = r.heads + r.tails;
    const coin = activity.kind_state && activity.kind_state.coin;
    return h('div', { class: 'results toy' },
      bars(SIDES.map((side) => ({ label: t(`toy.${side}`), count: r[side], percent: total ? (100 * r[side]) / total : 0 }))),
      coin ? h('p', { class: 'total toy-coin' }, t('toy.coin', { side: t(`toy.${coin}`) })) : null,
      h('p', { class: 'total' }, t('toy.people', { count: total })));
  },

  input({ activity, mine, submit }) {
    const before = latest(mine);
    const st = status();
    const buttons = SIDES.map((side) => h('button', {
      type: 'button', class: `button big toy-${side}`, 'aria-pressed': before && before.side === side ? 'true' : 'false',
      onclick: async () => {
        await submit({ side });
        confirm(st, t('toy.picked', { side: t(`toy.${side}`) }));
      },
    }, t(`toy.${side}`)));
    if (before) confirm(st, t('toy.picked', { side: t(`toy.${before.side}`) }));
    return h('div', { class: 'stack answer' }, h('p', { class: 'lead' }, activity.config.question), h('div', { class: 'row' }, buttons), st);
  },

  controls(activity, command) {
    return SIDES.map((side) => command(t('toy.flip', { side: t(`toy.${side}`) }), 'flip', { side }));
  },
};
