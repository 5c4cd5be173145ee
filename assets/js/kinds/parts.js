// What the kinds' modules (assets/js/kinds/*.js) build their views from: charts, lists and
// the moderation queue for results, and the pieces of a phone's answer form.

import { h, t, num, srOnly, api, notice, messageOf } from '../lib.js';
import { rich } from '../rich.js';

/** Horizontal bars with counts and percentages; a list, so it reads as text too. */
export function bars(rows, { highlight = () => false, shapes = false } = {}) {
  return h('ol', { class: 'bars' }, rows.map((row, i) => h('li', { class: highlight(i) ? 'bar correct' : 'bar' },
    h('span', { class: 'bar-label' }, shapes ? [shape(i), ' '] : null, rich(row.label), highlight(i) ? h('span', { class: 'tick', 'aria-hidden': 'true' }, ' ✓') : null),
    h('span', { class: 'bar-track', 'aria-hidden': 'true' },
      h('span', { class: `bar-fill c${i % 8}`, style: { width: `${Math.max(0, Math.min(100, row.percent))}%` } })),
    h('span', { class: 'bar-value' }, t('results.count_percent', { count: row.count, percent: num(row.percent, 1) })),
    highlight(i) ? srOnly(t('quiz.correct_answer')) : null)));
}

/**
 * `list` with its row count in `--rows`, for styles that share the screen's height among
 * rows. Set through the CSSOM: the pages' policy refuses style attributes.
 */
export function rows(list, count) {
  list.style.setProperty('--rows', String(count));
  return list;
}

export function stat(label, value) {
  return h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label));
}

export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

export function nameOrAnonymous(name) {
  return name || t('qna.anonymous');
}

// Older entries of a long list the organizer asked for, per activity round and list. Live
// documents carry the first 200 entries; the rest are read a page at a time and shown below
// them as they were when read.
const older = new Map();

export function olderEntries(activity, list, shown, total, item) {
  if (total <= shown.length || !shown.length) return null;
  const key = `${activity.id}/${activity.round}/${list}`;
  const kept = older.get(key) || { items: [], next: `${shown.length}.${shown[shown.length - 1].id}` };
  const area = h('div', { class: 'older' });
  const draw = () => {
    const left = total - shown.length - kept.items.length;
    area.replaceChildren(
      kept.items.length ? h('ul', { class: 'cards older-list' }, kept.items.map(item)) : '',
      kept.next && left > 0 ? h('button', { type: 'button', class: 'button small secondary', onclick: async (event) => {
        event.target.disabled = true;
        try {
          const page = await api('GET', `/activities/${activity.id}/results/${list}?limit=100&after=${encodeURIComponent(kept.next)}`);
          kept.items.push(...page.items);
          kept.next = page.next;
          older.set(key, kept);
        } finally { draw(); }
      } }, t('results.show_older', { count: left })) : '');
  };
  draw();
  return area;
}

export function button(label, onclick, cls = '') {
  return h('button', { type: 'button', class: `button ${cls}`, onclick }, label);
}

/** The organizer's moderation queue: held items with their decisions. */
export function moderation(queue, text, actions, bulk) {
  return h('section', { class: 'moderation', 'aria-label': t('moderation.queue') },
    h('h3', {}, t('moderation.queue'), ' ', h('span', { class: 'badge' }, num(queue.length))),
    queue.length ? h('ul', { class: 'plain' }, queue.map((item) => h('li', { class: 'held' },
      h('span', {}, text(item)), item.flag ? h('span', { class: 'badge warn' }, t(`flag.${item.flag}`)) : null,
      h('span', { class: 'actions' }, actions(item))))) : h('p', { class: 'muted' }, t('moderation.empty')),
    queue.length > 1 && bulk ? bulk() : null);
}

// ---------------------------------------------------------------------------------------
// Phones

/**
 * The element now on the page in place of `el`. Live results may redraw the input while an
 * answer is on its way (the phone page marks what it replaces `data-stale`); what happens
 * after the answer arrives goes to what is shown then.
 */
export function current(el) {
  return (el.dataset.stale && el.id && document.getElementById(el.id)) || el;
}

function say(statusEl, text, kind) {
  notice(current(statusEl), text, kind);
}

/** A submit button that shows progress and the result of `action`. */
export function sendButton(label, action, status) {
  const btn = h('button', { type: 'submit', class: 'button big' }, label);
  btn.run = async () => {
    btn.disabled = true;
    say(status, t('phone.sending'), 'info');
    try {
      await action();
    } catch (error) {
      say(status, messageOf(error), 'error');
    } finally {
      btn.disabled = false;
    }
  };
  return btn;
}

export function status() {
  return h('p', { id: 'answer-status', class: 'notice', role: 'status', 'aria-live': 'polite', hidden: true });
}

export function confirm(statusEl, text) {
  say(statusEl, text, 'ok');
}

export function choiceList(name, labels, multiple, chosen, disabled, { shapes = false } = {}) {
  return h('div', { class: 'choices-list' }, labels.map((label, i) => {
    const id = `${name}-${i}`;
    return h('div', { class: 'choice' },
      h('input', { type: multiple ? 'checkbox' : 'radio', name, id, value: String(i), checked: chosen.includes(i), disabled }),
      h('label', { for: id, class: `c${i % 8}` }, shapes ? [shape(i), ' '] : null, rich(label)));
  }));
}

/** Shapes that go with the choice colours (`c0`…`c7`), so colour is never the only cue. */
const SHAPES = ['▲', '◆', '●', '■', '★', '⬢', '✚', '⬟'];

/** The shape of choice `i`, hidden from screen readers (the text says the choice). */
export function shape(i) {
  return h('span', { class: 'shape', 'aria-hidden': 'true' }, SHAPES[i % SHAPES.length]);
}

/** Choices as coloured tiles for the big screen, with their shapes when `shapes`. */
export function tiles(labels, { shapes = false } = {}) {
  return h('ol', { class: 'tiles' }, labels.map((label, i) => h('li', { class: `tile c${i % 8}` },
    shapes ? [shape(i), ' '] : null, rich(label))));
}

export function picked(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => Number(i.value));
}

export function latest(mine, slot) {
  const found = (mine || []).filter((r) => !slot || r.slot === slot || r.slot.startsWith(slot));
  return found.length ? found[found.length - 1].answer : null;
}

/** The session's teams, as the page was last told (`setTeams`): their names and whether
 * the race ranks by sum or by points per player. */
const teams = { names: [], scoring: 'sum' };

/** Pages call this with the session's `teams` (null for none) whenever they learn it. */
export function setTeams(value) {
  teams.names = (value && value.names) || [];
  teams.scoring = (value && value.scoring) || 'sum';
}

/** A team's name by its number. */
export function teamName(team) {
  return teams.names[team] || `#${team + 1}`;
}

/**
 * The team race of a quiz or buzzer (`standings` from its results): a bar per team, ranked
 * by the session's choice, the sum of points or points per player. Null without teams.
 */
export function teamRace(standings) {
  if (!standings || !standings.length || !teams.names.length) return null;
  const byAverage = teams.scoring === 'average';
  const value = (s) => (byAverage ? s.average : s.score);
  const place = (s) => (byAverage ? s.rank_average : s.rank_sum);
  const sorted = [...standings].sort((a, b) => place(a) - place(b) || a.team - b.team);
  const top = Math.max(1, ...sorted.map(value));
  return h('section', { class: 'team-race' }, h('h3', {}, t(byAverage ? 'teams.race_average' : 'teams.race')),
    h('ol', { class: 'race', 'data-fit': 'list', 'data-fit-last': '' }, sorted.map((s) => h('li', { class: 'race-row', 'data-key': `team:${s.team}` },
      h('span', { class: 'rank' }, `${place(s)}.`),
      h('span', { class: 'name', title: teamName(s.team) }, teamName(s.team)),
      h('span', { class: 'bar-track', 'aria-hidden': 'true' },
        h('span', { class: `bar-fill c${s.team % 8}`, style: { width: `${Math.max(0, Math.min(100, (100 * value(s)) / top))}%` } })),
      h('span', { class: 'score' }, num(value(s)), srOnly(` ${t(byAverage ? 'teams.points_per_player' : 'quiz.points')}`)),
      h('span', { class: 'players' }, t('teams.players', { count: s.players }))))));
}
