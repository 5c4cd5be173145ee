// Open text: answers as cards, held ones in the organizer's queue; on a phone, a text box.
// See docs/activity-kinds.md for what a kind's module may provide.

import { h, t, num } from '../lib.js';
import { empty, olderEntries, button, moderation, current, sendButton, status, confirm } from './parts.js';

/**
 * The report: every answer with where moderation left it. Rejected answers are marked and
 * left out of the list and the counts unless the organizer asks to include them.
 */
function report(r) {
  const counts = { shown: 0, pending: 0, rejected: 0 };
  r.answers.forEach((a) => { counts[a.status] = (counts[a.status] || 0) + 1; });
  const item = (a) => h('li', { class: `card status-${a.status}` },
    h('p', { class: 'card-text' }, a.status === 'rejected' ? h('s', {}, a.text) : a.text),
    a.nickname ? h('p', { class: 'card-by' }, '— ', a.nickname) : null,
    h('p', { class: `badge status-${a.status}` }, t(`report.status_${a.status}`)));
  const list = h('ul', { class: 'cards' });
  const id = `rejected-${Math.random().toString(36).slice(2)}`;
  const include = h('input', { type: 'checkbox', id });
  const draw = () => {
    const shown = r.answers.filter((a) => include.checked || a.status !== 'rejected');
    list.replaceChildren(...shown.map(item));
    total.textContent = t('report.text_counts', { shown: num(counts.shown), held: num(counts.pending), rejected: num(counts.rejected) })
      + (counts.rejected && !include.checked ? ` ${t('report.left_out')}` : '');
  };
  const total = h('p', { class: 'total' });
  include.addEventListener('change', draw);
  draw();
  return h('div', { class: 'results open_text' }, total,
    counts.rejected ? h('div', { class: 'check' }, include, h('label', { for: id }, t('report.include_rejected'))) : null,
    r.answers.length ? list : empty(t('report.no_answers')));
}

export default {
  results(activity, r, mode, act) {
    if (mode === 'report') return report(r);
    const answers = mode === 'organizer' ? r.answers : r.answers.filter((a) => a.status !== 'pending');
    const card = (a) => h('li', { class: `card status-${a.status}`, 'data-key': `answer:${a.id}` },
      h('p', { class: 'card-text' }, a.text),
      a.nickname ? h('p', { class: 'card-by' }, '— ', a.nickname) : null,
      mode === 'organizer' && a.status !== 'shown' ? h('p', { class: 'badge' }, t(`status.${a.status}`)) : null);
    return h('div', { class: 'results open_text' },
      mode === 'organizer' ? moderation(r.moderation_queue || [], (a) => a.text, (a) => [
        button(t('moderation.approve'), () => act('approve', { id: a.id })),
        button(t('moderation.reject'), () => act('reject', { id: a.id }), 'secondary'),
      ], () => button(t('moderation.approve_all'), () => act('approve_all', {}), 'small')) : null,
      answers.length ? h('ul', { class: 'cards', 'data-fit': 'list', 'data-rotate': `answers:${activity.id}`, 'data-total': r.shown }, answers.map(card)) : empty(t('results.no_answers')),
      mode === 'organizer' ? olderEntries(activity, 'answers', r.answers, r.total_answers, card) : null,
      h('p', { class: 'total' }, t('open_text.totals', { people: t('count.people', { count: r.total_people }), answers: t('count.answers_shown', { count: r.shown }) })));
  },

  input({ activity, own, submit }) {
    const c = activity.config;
    const mineItems = (own && own.mine) || [];
    const st = status();
    const area = h('textarea', { id: 'open-text', maxlength: c.max_length || 280, rows: 3 });
    const max = c.max_answers || 1;
    const left = max - mineItems.length;
    // With every answer given, the last one can still be edited (the same index).
    const editing = left <= 0 && mineItems.length ? mineItems[0] : null;
    if (editing) area.value = editing.text;
    const form = h('form', { class: 'stack answer' },
      h('div', { class: 'field' }, h('label', { for: 'open-text' }, c.prompt), area,
        h('p', { class: 'hint' }, editing ? t('open_text.edit') : t('open_text.left', { count: left }))), st,
      mineItems.length ? h('section', {}, h('h2', { class: 'small-heading' }, t('open_text.yours')),
        h('ul', { class: 'plain mine' }, mineItems.map((a) => h('li', {}, a.text, ' ', h('span', { class: 'badge' }, t(`status.${a.status}`)))))) : null);
    const btn = sendButton(t('phone.send'), async () => {
      const text = area.value.trim();
      if (!text) throw new Error(t('open_text.type_something'));
      const index = editing ? editing.index ?? max - 1 : mineItems.length;
      await submit({ text, index });
      if (!editing) current(area).value = '';
      confirm(st, t('phone.text_sent'));
    }, st);
    form.insertBefore(btn, st.nextSibling);
    form.addEventListener('submit', (e) => { e.preventDefault(); btn.run(); });
    return form;
  },
};
