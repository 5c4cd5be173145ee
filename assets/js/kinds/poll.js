// A poll: bars per option on every screen; on a phone, the options to pick from.
// See docs/activity-kinds.md for what a kind's module may provide.

import { h, t } from '../lib.js';
import { rich } from '../rich.js';
import { bars, sendButton, status, confirm, choiceList, picked, latest, tiles } from './parts.js';

export default {
  /** The big screen while results are hidden: the options, so the room can read them. */
  waiting(activity) {
    return h('div', {}, tiles(activity.config.options),
      h('p', { class: 'muted center' }, t('present.results_hidden')));
  },

  /** The screen says when voting is locked, as the phones do. */
  subtitle(activity) {
    return activity.kind_state && activity.kind_state.locked ? t('poll.locked') : null;
  },

  controls(activity, command) {
    return [activity.kind_state && activity.kind_state.locked ? command(t('run.unlock'), 'unlock') : command(t('run.lock'), 'lock')];
  },

  results(activity, r) {
    return h('div', { class: 'results poll' },
      bars(r.options),
      h('p', { class: 'total' }, t('results.voters', { count: r.total_voters })));
  },

  input({ activity, mine, submit }) {
    const c = activity.config;
    const locked = !!(activity.kind_state && activity.kind_state.locked);
    const before = latest(mine, 'vote');
    const st = status();
    const form = h('form', { class: 'stack answer' },
      h('fieldset', {}, h('legend', {}, rich(c.question), c.multiple ? h('span', { class: 'hint' }, ' ', t('poll.pick_up_to', { count: c.max_picks || c.options.length })) : null),
        choiceList('poll', c.options, c.multiple, before ? before.options : [], locked)),
      locked ? h('p', { class: 'notice info' }, t('poll.locked')) : null, st);
    const btn = sendButton(before ? t('phone.change_vote') : t('phone.vote'), async () => {
      const options = picked(form, 'poll');
      if (!options.length) throw new Error(t('poll.pick_one'));
      await submit({ options });
      confirm(st, t('phone.vote_counted'));
    }, st);
    if (!locked) form.append(btn);
    form.addEventListener('submit', (e) => { e.preventDefault(); btn.run(); });
    if (before) confirm(st, t('phone.vote_counted'));
    return form;
  },
};
