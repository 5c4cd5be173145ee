// A word cloud: bigger words were said more often; on a phone, a field per word.
// See docs/activity-kinds.md for what a kind's module may provide.

import { h, t, srOnly } from '../lib.js';
import { empty, button, moderation, sendButton, status, confirm, latest } from './parts.js';

/** A word cloud: bigger words were said more often. Sorted by count, so it reads in order. */
function cloud(words) {
  if (!words.length) return empty(t('results.no_words'));
  return h('ul', { class: 'cloud', 'data-fit': 'scale' }, words.map((w, i) => h('li', {
    class: `c${i % 8}`,
    'data-key': `word:${w.word}`,
    style: { fontSize: `${(1 + 2.6 * w.weight).toFixed(2)}em` },
  }, w.word, srOnly(` ${t('results.times', { count: w.count })}`))));
}

export default {
  results(activity, r, mode, act) {
    return h('div', { class: 'results word_cloud' },
      cloud(r.words),
      h('p', { class: 'total' }, t('word_cloud.totals', { people: t('count.people', { count: r.total_people }), words: t('count.words', { count: r.total_words }) })),
      mode === 'organizer' ? moderation(r.moderation_queue || [], (w) => w.word, (w) => [
        button(t('moderation.allow'), () => act('allow_word', { word: w.word })),
      ]) : null,
      mode === 'organizer' && act ? h('details', { class: 'hide-words' }, h('summary', {}, t('word_cloud.hide_a_word')),
        h('ul', { class: 'plain' }, r.words.map((w) => h('li', {}, w.word, ' ', button(t('moderation.hide'), () => act('hide_word', { word: w.word }), 'small secondary')))),
        (r.hidden || []).length ? h('p', {}, t('word_cloud.hidden'), ' ', (r.hidden || []).map((w) => button(`${w} ↺`, () => act('unhide_word', { word: w }), 'small secondary'))) : null) : null);
  },

  input({ activity, mine, submit }) {
    const c = activity.config;
    const before = latest(mine);
    const st = status();
    const inputs = [];
    for (let i = 0; i < (c.max_words || 1); i++) {
      inputs.push(h('input', { id: `word-${i}`, maxlength: c.max_word_length || 40, autocomplete: 'off', value: before && before.words[i] ? before.words[i] : '' }));
    }
    const form = h('form', { class: 'stack answer' },
      h('fieldset', {}, h('legend', {}, c.prompt),
        inputs.map((input, i) => h('div', { class: 'field' }, h('label', { for: input.id }, t('word_cloud.word_n', { n: i + 1 })), input))), st);
    const btn = sendButton(t('phone.send'), async () => {
      const words = inputs.map((i) => i.value.trim()).filter(Boolean);
      if (!words.length) throw new Error(t('word_cloud.type_a_word'));
      const stored = await submit({ words });
      const held = stored && stored.answer && stored.answer.held && stored.answer.held.length;
      confirm(st, held ? t('word_cloud.some_held') : t('phone.words_counted'));
    }, st);
    form.append(btn);
    form.addEventListener('submit', (e) => { e.preventDefault(); btn.run(); });
    if (before) confirm(st, t('phone.words_counted'));
    return form;
  },
};
