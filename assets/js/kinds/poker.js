// Planning poker: the table of cards, turned over at the reveal; on a phone, the deck.
// See docs/activity-kinds.md for what a kind's module may provide.

import { h, t, num, srOnly, messageOf } from '../lib.js';
import { bars, stat, empty, status, confirm, latest } from './parts.js';

/** A card as the room sees it: the coffee card is a cup. */
function face(card) {
  return card === 'coffee' ? '☕' : card ?? '';
}

/** What the room reads as the question. */
function headline(activity) {
  return (activity.kind_state && activity.kind_state.story) || activity.config.story;
}

export default {
  headline,

  inputUsesResults: true,
  alwaysRevealable: true,
  defaultVisibility: 'hidden',
  newRoundLabel: 'run.revote',

  controls(activity, command, act) {
    const story = h('input', { id: 'poker-story', maxlength: 200, placeholder: t('run.story') });
    return [h('span', { class: 'inline' }, h('label', { for: 'poker-story', class: 'sr-only' }, t('run.story')), story,
      h('button', { type: 'button', class: 'button secondary', onclick: () => act('set_story', { story: story.value.trim() }) }, t('run.set_story')))];
  },

  /** What a phone shows for a config in the builder's preview: the deck's cards. */
  preview(config, schema) {
    // The server's decks, as its schema lists them.
    const decks = (schema.properties.deck || {})['x-cards'] || {};
    const cards = config.deck === 'custom' ? [...(config.custom_cards || [])] : [...(decks[config.deck || 'fibonacci'] || [])];
    if (config.unsure_card !== false) cards.push('?');
    if (config.coffee_card) cards.push('coffee');
    return { ...config, cards };
  },

  results(activity, r, mode) {
    const stats = () => h('div', { class: 'stats' },
      stat(t('poker.average'), r.average == null ? '–' : num(r.average, 1)),
      stat(t('poker.median'), r.median == null ? '–' : num(r.median, 1)),
      stat(t('poker.range'), r.lowest ? `${face(r.lowest)} – ${face(r.highest)}` : '–'),
      stat(t('poker.consensus'), r.consensus ? t('common.yes') : t('common.no')));
    // Revealed on the big screen: a stack per value in deck order, with who played it
    // under it, so a crowd's cards and the figures all fit.
    if (mode === 'screen' && r.revealed && r.distribution) {
      return h('div', { class: 'results poker' }, stats(),
        h('ul', { class: 'stacks' }, r.distribution.map((d) => h('li', { class: 'stack', 'data-key': `stack:${d.card}` },
          h('span', { class: 'stack-card' }, face(d.card)),
          h('span', { class: 'stack-count' }, t('poker.votes', { count: d.count })),
          h('ul', { class: 'stack-names', 'data-fit': 'list', 'data-total': d.count }, (d.voters || []).map((name) => h('li', { class: 'seat-name', title: name }, name)))))));
    }
    const table = h('ul', { class: `table${r.revealed ? ' revealed' : ''}`, 'data-fit': 'list' }, r.voters.map((v, i) => h('li', { class: 'seat', 'data-key': `seat:${v.nickname}` },
      h('span', { class: 'poker-card', style: { animationDelay: `${i * 60}ms` } },
        h('span', { class: 'face back', 'aria-hidden': 'true' }, '✓'),
        h('span', { class: 'face front' }, face(v.card))),
      h('span', { class: 'seat-name', title: v.nickname }, v.nickname),
      srOnly(r.revealed ? ` ${t('poker.played', { card: v.card ?? '?' })}` : ` ${t('poker.has_voted')}`))));
    return h('div', { class: 'results poker' },
      h('p', { class: 'total' }, t('poker.votes', { count: r.votes })),
      r.voters.length ? table : empty(t('poker.waiting')),
      r.revealed ? stats() : null,
      r.revealed && r.distribution ? bars(r.distribution.map((d) => ({
        label: face(d.card), count: d.count, percent: r.votes ? (100 * d.count) / r.votes : 0,
      }))) : null,
      mode !== 'phone' && r.history && r.history.length ? h('details', { class: 'history' },
        h('summary', {}, t('poker.history')),
        h('ol', {}, r.history.map((p) => h('li', {}, `${p.story || t('poker.round', { round: p.round })}: `,
          p.distribution.map((d) => `${face(d.card)}×${d.count}`).join(', '),
          p.consensus ? ` · ${t('poker.consensus')}` : '')))) : null);
  },

  input({ activity, results, mine, submit }) {
    const c = activity.config;
    const cards = c.cards || [];
    const before = latest(mine);
    const revealed = results && results.revealed;
    const st = status();
    const grid = h('div', { class: 'deck', role: 'group', 'aria-label': t('poker.pick_card') }, cards.map((card) => h('button', {
      type: 'button', class: `deck-card${before && before.card === card ? ' chosen' : ''}`,
      'aria-pressed': before && before.card === card ? 'true' : 'false', disabled: revealed,
      onclick: async (e) => {
        const target = e.currentTarget;
        grid.querySelectorAll('button').forEach((b) => { b.disabled = true; });
        try {
          await submit({ card });
          grid.querySelectorAll('button').forEach((b) => { b.classList.remove('chosen'); b.setAttribute('aria-pressed', 'false'); });
          target.classList.add('chosen');
          target.setAttribute('aria-pressed', 'true');
          confirm(st, t('poker.card_in', { card }));
        } catch (error) {
          confirm(st, messageOf(error));
        } finally {
          grid.querySelectorAll('button').forEach((b) => { b.disabled = revealed; });
        }
      },
    }, face(card))));
    if (before) confirm(st, t('poker.card_in', { card: before.card }));
    return h('div', { class: 'stack answer' }, h('p', { class: 'lead' }, headline(activity) || activity.title), grid, st);
  },
};
