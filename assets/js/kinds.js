// What each activity kind looks like: results for the big screen, the organizer and the
// report, and the input on a phone. Every chart also exists as text for screen readers.
// The shapes are the API's (docs/activity-kinds.md); nothing is counted here.

import { h, t, num, srOnly, countdown, clock, requestId, persist, api, notice } from './lib.js';

const EMOJI = { thumbs_up: '👍', heart: '❤️', laugh: '😂', wow: '😮', clap: '👏', party: '🎉' };
export const REACTIONS = Object.entries(EMOJI);

/** The heading of an activity: its question, prompt, story or title. */
export function headline(activity) {
  const c = activity.config || {};
  if (activity.kind === 'quiz') return (c.current && c.current.question) || activity.title;
  if (activity.kind === 'buzzer') {
    const prompt = (activity.kind_state && activity.kind_state.prompt) || c.prompt;
    return prompt || activity.title;
  }
  if (activity.kind === 'poker') return (activity.kind_state && activity.kind_state.story) || c.story || activity.title;
  return c.question || c.prompt || c.topic || activity.title;
}

/** Horizontal bars with counts and percentages; a list, so it reads as text too. */
function bars(rows, { highlight = () => false } = {}) {
  return h('ol', { class: 'bars' }, rows.map((row, i) => h('li', { class: highlight(i) ? 'bar correct' : 'bar' },
    h('span', { class: 'bar-label' }, row.label, highlight(i) ? h('span', { class: 'tick', 'aria-hidden': 'true' }, ' ✓') : null),
    h('span', { class: 'bar-track', 'aria-hidden': 'true' },
      h('span', { class: `bar-fill c${i % 8}`, style: { width: `${Math.max(0, Math.min(100, row.percent))}%` } })),
    h('span', { class: 'bar-value' }, t('results.count_percent', { count: num(row.count), percent: num(row.percent, 1) })),
    highlight(i) ? srOnly(t('quiz.correct_answer')) : null)));
}

function stat(label, value) {
  return h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label));
}

function empty(text) {
  return h('p', { class: 'empty' }, text);
}

/** A word cloud: bigger words were said more often. Sorted by count, so it reads in order. */
function cloud(words) {
  if (!words.length) return empty(t('results.no_words'));
  return h('ul', { class: 'cloud' }, words.map((w, i) => h('li', {
    class: `c${i % 8}`,
    style: { fontSize: `${(1 + 2.6 * w.weight).toFixed(2)}em` },
  }, w.word, srOnly(` ${t('results.times', { count: w.count })}`))));
}

function nameOrAnonymous(name) {
  return name || t('qna.anonymous');
}

/**
 * Results of any kind. `mode` is 'screen' (the big screen), 'organizer' (the run view, with
 * what only the organizer sees) or 'phone'. `act(command, args)` is given on the run view for
 * moderation buttons.
 */
export function renderResults(activity, results, mode = 'screen', act = null) {
  if (!results) return empty(t('results.hidden'));
  const render = RESULTS[activity.kind];
  return render ? render(activity, results, mode, act) : h('pre', {}, JSON.stringify(results, null, 2));
}

// Older entries of a long list the organizer asked for, per activity round and list. Live
// documents carry the first 200 entries; the rest are read a page at a time and shown below
// them as they were when read.
const older = new Map();

function olderEntries(activity, list, shown, total, item) {
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
      } }, t('results.show_older', { count: num(left) })) : '');
  };
  draw();
  return area;
}

const RESULTS = {
  poll(activity, r) {
    return h('div', { class: 'results poll' },
      bars(r.options),
      h('p', { class: 'total' }, t('results.voters', { count: num(r.total_voters) })));
  },

  rating(activity, r) {
    const max = Math.max(1, ...r.distribution.map((d) => d.count));
    return h('div', { class: 'results rating' },
      h('ol', { class: 'columns' }, r.distribution.map((d, i) => h('li', { class: 'column' },
        h('span', { class: 'column-count' }, num(d.count)),
        h('span', { class: 'column-track', 'aria-hidden': 'true' },
          h('span', { class: `column-fill c${i % 8}`, style: { height: `${(100 * d.count) / max}%` } })),
        h('span', { class: 'column-label' }, d.label || String(d.value)),
        srOnly(` ${t('results.count_percent', { count: num(d.count), percent: num(d.percent, 1) })}`)))),
      h('div', { class: 'stats' },
        stat(t('rating.mean'), r.mean === null ? '–' : num(r.mean, 2)),
        stat(t('rating.median'), r.median === null ? '–' : num(r.median, 1)),
        stat(t('rating.voters'), num(r.total_voters))));
  },

  word_cloud(activity, r, mode, act) {
    return h('div', { class: 'results word_cloud' },
      cloud(r.words),
      h('p', { class: 'total' }, t('word_cloud.totals', { people: num(r.total_people), words: num(r.total_words) })),
      mode === 'organizer' ? moderation(r.moderation_queue || [], (w) => w.word, (w) => [
        button(t('moderation.allow'), () => act('allow_word', { word: w.word })),
      ]) : null,
      mode === 'organizer' && act ? h('details', { class: 'hide-words' }, h('summary', {}, t('word_cloud.hide_a_word')),
        h('ul', { class: 'plain' }, r.words.map((w) => h('li', {}, w.word, ' ', button(t('moderation.hide'), () => act('hide_word', { word: w.word }), 'small secondary')))),
        (r.hidden || []).length ? h('p', {}, t('word_cloud.hidden'), ' ', (r.hidden || []).map((w) => button(`${w} ↺`, () => act('unhide_word', { word: w }), 'small secondary'))) : null) : null);
  },

  open_text(activity, r, mode, act) {
    const answers = mode === 'organizer' ? r.answers : r.answers.filter((a) => a.status !== 'pending');
    const card = (a) => h('li', { class: `card status-${a.status}` },
      h('p', { class: 'card-text' }, a.text),
      a.nickname ? h('p', { class: 'card-by' }, '— ', a.nickname) : null,
      mode === 'organizer' && a.status !== 'shown' ? h('p', { class: 'badge' }, t(`status.${a.status}`)) : null);
    return h('div', { class: 'results open_text' },
      mode === 'organizer' ? moderation(r.moderation_queue || [], (a) => a.text, (a) => [
        button(t('moderation.approve'), () => act('approve', { id: a.id })),
        button(t('moderation.reject'), () => act('reject', { id: a.id }), 'secondary'),
      ], () => button(t('moderation.approve_all'), () => act('approve_all', {}), 'small')) : null,
      answers.length ? h('ul', { class: 'cards' }, answers.map(card)) : empty(t('results.no_answers')),
      mode === 'organizer' ? olderEntries(activity, 'answers', r.answers, r.total_answers, card) : null,
      h('p', { class: 'total' }, t('open_text.totals', { people: num(r.total_people), answers: num(r.shown) })));
  },

  qna(activity, r, mode, act) {
    const wall = h('ol', { class: 'wall' }, r.questions.map((q) => h('li', { class: `question${q.pinned ? ' pinned' : ''}${q.answered ? ' answered' : ''}` },
      h('span', { class: 'votes' }, h('strong', {}, num(q.votes)), h('span', { class: 'votes-label' }, t('qna.votes_label', { count: q.votes }))),
      h('div', { class: 'question-body' },
        h('p', { class: 'question-text' }, q.text),
        h('p', { class: 'question-by' }, nameOrAnonymous(q.author),
          q.pinned ? h('span', { class: 'badge' }, t('qna.pinned')) : null,
          q.answered ? h('span', { class: 'badge done' }, t('qna.answered')) : null,
          q.status === 'hidden' ? h('span', { class: 'badge' }, t('status.hidden')) : null)),
      mode === 'organizer' && act ? h('div', { class: 'actions' },
        button(q.pinned ? t('qna.unpin') : t('qna.pin'), () => act(q.pinned ? 'unpin' : 'pin', { id: q.id }), 'small secondary'),
        button(q.answered ? t('qna.unmark') : t('qna.mark'), () => act(q.answered ? 'unmark_answered' : 'mark_answered', { id: q.id }), 'small secondary'),
        q.status === 'hidden'
          ? button(t('qna.unhide'), () => act('unhide_question', { id: q.id }), 'small secondary')
          : button(t('moderation.hide'), () => act('hide_question', { id: q.id }), 'small secondary')) : null)));
    return h('div', { class: 'results qna' },
      mode === 'organizer' ? moderation(r.moderation_queue || [], (q) => `${q.text} (${nameOrAnonymous(q.author)})`, (q) => [
        button(t('moderation.approve'), () => act('approve', { id: q.id })),
        button(t('moderation.hide'), () => act('hide_question', { id: q.id }), 'secondary'),
      ]) : null,
      mode === 'organizer' && act ? h('p', { class: 'inline' }, t('qna.sort'), ' ',
        button(t('qna.by_votes'), () => act('sort', { by: 'votes' }), r.sort === 'votes' ? 'small' : 'small secondary'),
        button(t('qna.by_recent'), () => act('sort', { by: 'recent' }), r.sort === 'recent' ? 'small' : 'small secondary')) : null,
      r.questions.length ? wall : empty(t('qna.none_yet')),
      mode === 'organizer' ? olderEntries(activity, 'questions', r.questions, r.total_questions || 0, (q) => h('li', { class: 'card' },
        h('p', { class: 'card-text' }, q.text), h('p', { class: 'card-by' }, nameOrAnonymous(q.author), ' · ', t('qna.votes_label', { count: q.votes }), ` ${num(q.votes)}`))) : null);
  },

  poker(activity, r, mode) {
    const table = h('ul', { class: `table${r.revealed ? ' revealed' : ''}` }, r.voters.map((v, i) => h('li', { class: 'seat' },
      h('span', { class: 'poker-card', style: { animationDelay: `${i * 60}ms` } },
        h('span', { class: 'face back', 'aria-hidden': 'true' }, '✓'),
        h('span', { class: 'face front' }, v.card ?? '')),
      h('span', { class: 'seat-name' }, v.nickname),
      srOnly(r.revealed ? ` ${t('poker.played', { card: v.card ?? '?' })}` : ` ${t('poker.has_voted')}`))));
    return h('div', { class: 'results poker' },
      h('p', { class: 'total' }, t('poker.votes', { count: num(r.votes) })),
      r.voters.length ? table : empty(t('poker.waiting')),
      r.revealed ? h('div', { class: 'stats' },
        stat(t('poker.average'), r.average == null ? '–' : num(r.average, 1)),
        stat(t('poker.median'), r.median == null ? '–' : num(r.median, 1)),
        stat(t('poker.range'), r.lowest ? `${r.lowest} – ${r.highest}` : '–'),
        stat(t('poker.consensus'), r.consensus ? t('common.yes') : t('common.no'))) : null,
      r.revealed && r.distribution ? bars(r.distribution.map((d) => ({
        label: d.card, count: d.count, percent: r.votes ? (100 * d.count) / r.votes : 0,
      }))) : null,
      mode !== 'phone' && r.history && r.history.length ? h('details', { class: 'history' },
        h('summary', {}, t('poker.history')),
        h('ol', {}, r.history.map((p) => h('li', {}, `${p.story || t('poker.round', { round: p.round })}: `,
          p.distribution.map((d) => `${d.card}×${d.count}`).join(', '),
          p.consensus ? ` · ${t('poker.consensus')}` : '')))) : null);
  },

  quiz(activity, r, mode) {
    const current = (activity.config || {}).current;
    const parts = [];
    const q = r.current != null ? r.questions.find((x) => x.index === r.current) : null;
    if (q) {
      const choices = current && current.index === q.index ? current.choices
        : ((activity.config.questions || [])[q.index] || {}).choices || [];
      if (q.distribution) {
        const total = q.distribution.reduce((a, b) => a + b, 0);
        parts.push(bars(choices.map((label, i) => ({
          label, count: q.distribution[i] || 0, percent: total ? (100 * (q.distribution[i] || 0)) / total : 0,
        })), { highlight: (i) => (q.correct || []).includes(i) }));
        if (q.correct_count != null) parts.push(h('p', { class: 'total' }, t('quiz.correct_count', { count: num(q.correct_count), answered: num(q.answered) })));
      } else {
        parts.push(h('p', { class: 'total' }, t('quiz.answered', { count: num(q.answered) })));
      }
    }
    parts.push(leaderboard(r.leaderboard, mode));
    return h('div', { class: 'results quiz' }, parts);
  },

  buzzer(activity, r, mode, act) {
    return h('div', { class: 'results buzzer' },
      h('p', { class: `armed-state ${r.armed ? 'armed' : ''}` }, r.armed ? t('buzzer.armed') : t('buzzer.not_armed')),
      r.buzzes.length ? h('ol', { class: 'buzzes' }, r.buzzes.map((b) => h('li', { class: `buzz${b.locked_out ? ' locked' : ''}${b.judged === true ? ' right' : ''}${b.judged === false ? ' wrong' : ''}` },
        h('span', { class: 'position' }, `${b.position}.`),
        h('span', { class: 'buzz-name' }, b.nickname),
        h('span', { class: 'buzz-time' }, b.position === 1 ? t('buzzer.after', { ms: num(b.after_ms) }) : t('buzzer.behind', { ms: num(b.behind_ms) })),
        b.judged === true ? h('span', { class: 'badge done' }, t('buzzer.right')) : null,
        b.judged === false ? h('span', { class: 'badge' }, t('buzzer.wrong')) : null,
        b.locked_out ? h('span', { class: 'badge' }, t('buzzer.locked_out')) : null,
        mode === 'organizer' && act && b.participant_id && b.judged == null ? h('span', { class: 'actions' },
          button(t('buzzer.judge_right'), () => act('judge', { participant_id: b.participant_id, correct: true }), 'small'),
          button(t('buzzer.judge_wrong'), () => act('judge', { participant_id: b.participant_id, correct: false }), 'small secondary')) : null))) : empty(t('buzzer.no_buzzes')),
      r.scores.length ? h('section', { class: 'scores' }, h('h3', {}, t('buzzer.scores')), h('ol', { class: 'leaderboard' }, r.scores.map((s) => h('li', {},
        h('span', { class: 'rank' }, `${s.rank}.`), h('span', { class: 'name' }, s.nickname), h('span', { class: 'score' }, num(s.score)))))) : null);
  },
};

function leaderboard(rows, mode) {
  if (!rows || !rows.length) return mode === 'phone' ? null : empty(t('quiz.no_leaderboard'));
  return h('section', { class: 'board' }, h('h3', {}, t('quiz.leaderboard')),
    h('ol', { class: 'leaderboard' }, rows.map((s) => h('li', {},
      h('span', { class: 'rank' }, `${s.rank}.`), h('span', { class: 'name' }, s.nickname),
      h('span', { class: 'score' }, num(s.score)), srOnly(` ${t('quiz.points')}`)))));
}

function button(label, onclick, cls = '') {
  return h('button', { type: 'button', class: `button ${cls}`, onclick }, label);
}

/** The organizer's moderation queue: held items with their decisions. */
function moderation(queue, text, actions, bulk) {
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
 * The input for the current activity on a phone. `ctx` has `activity`, `results` (visible
 * results or null), `own` (the participant's own view from GET results, or null),
 * `mine` (their stored answers for this round) and `submit(answer)` which resolves when the
 * server has stored it.
 */
export function renderInput(ctx) {
  const render = INPUTS[ctx.activity.kind];
  return render ? render(ctx) : empty(t('phone.unsupported'));
}

/**
 * The element now on the page in place of `el`. Live results may redraw the input while an
 * answer is on its way (the phone page marks what it replaces `data-stale`); what happens
 * after the answer arrives goes to what is shown then.
 */
function current(el) {
  return (el.dataset.stale && el.id && document.getElementById(el.id)) || el;
}

function say(statusEl, text, kind) {
  notice(current(statusEl), text, kind);
}

/** A submit button that shows progress and the result of `action`. */
function sendButton(label, action, status) {
  const btn = h('button', { type: 'submit', class: 'button big' }, label);
  btn.run = async () => {
    btn.disabled = true;
    say(status, t('phone.sending'), 'info');
    try {
      await action();
    } catch (error) {
      say(status, error.message ? (error.localized || error.message) : String(error), 'error');
    } finally {
      btn.disabled = false;
    }
  };
  return btn;
}

function status() {
  return h('p', { id: 'answer-status', class: 'notice', role: 'status', 'aria-live': 'polite', hidden: true });
}

function confirm(statusEl, text) {
  say(statusEl, text, 'ok');
}

function choiceList(name, labels, multiple, chosen, disabled) {
  return h('div', { class: 'choices-list' }, labels.map((label, i) => {
    const id = `${name}-${i}`;
    return h('div', { class: 'choice' },
      h('input', { type: multiple ? 'checkbox' : 'radio', name, id, value: String(i), checked: chosen.includes(i), disabled }),
      h('label', { for: id, class: `c${i % 8}` }, label));
  }));
}

function picked(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => Number(i.value));
}

function latest(mine, slot) {
  const found = (mine || []).filter((r) => !slot || r.slot === slot || r.slot.startsWith(slot));
  return found.length ? found[found.length - 1].answer : null;
}

/** The countdown of the quiz question on screen; a redraw replaces it. */
let stopQuizClock = () => {};

const INPUTS = {
  poll({ activity, mine, submit }) {
    const c = activity.config;
    const locked = !!(activity.kind_state && activity.kind_state.locked);
    const before = latest(mine, 'vote');
    const st = status();
    const form = h('form', { class: 'stack answer' },
      h('fieldset', {}, h('legend', {}, c.question, c.multiple ? h('span', { class: 'hint' }, ' ', t('poll.pick_up_to', { count: c.max_picks || c.options.length })) : null),
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

  rating({ activity, mine, submit }) {
    const c = activity.config;
    const before = latest(mine);
    const st = status();
    const values = [];
    for (let v = c.min ?? 1; v <= (c.max ?? 5); v++) values.push(v);
    const labels = values.map((v, i) => (c.labels && c.labels[i] ? `${v} · ${c.labels[i]}` : String(v)));
    const form = h('form', { class: 'stack answer' },
      h('fieldset', {}, h('legend', {}, c.question),
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

  word_cloud({ activity, mine, submit }) {
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

  open_text({ activity, own, submit }) {
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

  qna({ activity, results, own, submit }) {
    const c = activity.config;
    const st = status();
    const area = h('textarea', { id: 'question', maxlength: c.max_length || 300, rows: 3 });
    const anon = c.allow_anonymous !== false ? h('input', { type: 'checkbox', id: 'anonymous' }) : null;
    const myVotes = new Set((own && own.my_votes) || []);
    const form = h('form', { class: 'stack answer' },
      h('div', { class: 'field' }, h('label', { for: 'question' }, t('qna.your_question')), area),
      anon ? h('div', { class: 'check' }, anon, h('label', { for: 'anonymous' }, t('qna.ask_anonymously'))) : null, st);
    const btn = sendButton(t('qna.ask'), async () => {
      const text = area.value.trim();
      if (!text) throw new Error(t('qna.type_question'));
      await submit({ ask: { text, anonymous: anon ? anon.checked : false } });
      current(area).value = '';
      confirm(st, c.moderation ? t('qna.sent_for_review') : t('qna.sent'));
    }, st);
    form.insertBefore(btn, st);
    form.addEventListener('submit', (e) => { e.preventDefault(); btn.run(); });
    const questions = (results && results.questions) || [];
    const pending = ((own && own.mine) || []).filter((q) => q.status === 'pending');
    return h('div', { class: 'stack' }, h('p', { class: 'lead' }, c.topic), form,
      pending.length ? h('section', {}, h('h2', { class: 'small-heading' }, t('qna.waiting_review')),
        h('ul', { class: 'plain mine' }, pending.map((q) => h('li', {}, q.text)))) : null,
      h('section', { 'aria-label': t('qna.questions') }, h('h2', { class: 'small-heading' }, t('qna.questions')),
        questions.length ? h('ul', { class: 'plain phone-wall' }, questions.map((q) => {
          const voted = myVotes.has(q.id);
          const vote = h('button', {
            type: 'button', class: `vote${voted ? ' voted' : ''}`, 'aria-pressed': voted ? 'true' : 'false',
            onclick: async () => {
              vote.disabled = true;
              try { await submit(voted ? { unvote: q.id } : { upvote: q.id }); } catch (error) { confirm(st, error.localized || error.message); } finally { vote.disabled = false; }
            },
          }, h('span', { 'aria-hidden': 'true' }, '▲ '), num(q.votes), srOnly(` ${t(voted ? 'qna.remove_vote' : 'qna.upvote', { text: q.text })}`));
          return h('li', { class: q.answered ? 'answered' : '' }, vote, h('span', {}, q.text, h('span', { class: 'question-by' }, ' — ', nameOrAnonymous(q.author))));
        })) : empty(t('qna.none_yet'))));
  },

  poker({ activity, results, mine, submit }) {
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
          confirm(st, error.localized || error.message);
        } finally {
          grid.querySelectorAll('button').forEach((b) => { b.disabled = revealed; });
        }
      },
    }, card === 'coffee' ? '☕' : card)));
    if (before) confirm(st, t('poker.card_in', { card: before.card }));
    return h('div', { class: 'stack answer' }, h('p', { class: 'lead' }, headline(activity)), grid, st);
  },

  quiz({ activity, own, mine, submit }) {
    const current = activity.config.current;
    if (!current) return h('p', { class: 'lead waiting' }, t('quiz.get_ready'));
    const you = own && own.you;
    const st = status();
    const clockEl = h('span', { class: 'countdown', role: 'timer', 'aria-label': t('quiz.seconds_left') });
    const over = () => clock.until(current.deadline_at) <= 0;
    const mineNow = (mine || []).map((r) => r.answer).find((a) => a && a.question === current.index);
    const answered = (you && you.answered_current) || !!mineNow;
    const multiple = current.picks > 1;
    const list = choiceList('quiz', current.choices, multiple, mineNow ? mineNow.choices : [], answered || current.revealed);
    if (current.revealed && current.correct) {
      current.correct.forEach((i) => {
        const label = list.querySelectorAll('label')[i];
        if (label) label.append(h('span', { 'aria-hidden': 'true' }, ' ✓'), srOnly(` ${t('quiz.correct_answer')}`));
      });
    }
    const form = h('form', { class: 'stack answer' },
      h('p', { class: 'quiz-meta' }, t('quiz.question_of', { n: current.index + 1, total: activity.config.question_count }),
        current.revealed || !current.deadline_at ? null : [' · ', clockEl]),
      h('fieldset', {}, h('legend', {}, current.question, multiple ? h('span', { class: 'hint' }, ' ', t('quiz.pick_n', { count: current.picks })) : null),
        list), st);
    stopQuizClock();
    if (!current.revealed && current.deadline_at) stopQuizClock = countdown(clockEl, current.deadline_at, () => {
      form.querySelectorAll('input,button').forEach((el) => { el.disabled = true; });
      if (!form.dataset.sent) confirm(st, t('quiz.time_up'));
    });
    else clockEl.textContent = '';
    const btn = sendButton(t('quiz.lock_in'), async () => {
      const choices = picked(form, 'quiz');
      if (!choices.length) throw new Error(t('poll.pick_one'));
      if (over()) throw new Error(t('quiz.time_up'));
      await submit({ question: current.index, choices });
      form.dataset.sent = '1';
      form.querySelectorAll('input,button').forEach((el) => { el.disabled = true; });
      confirm(st, t('quiz.locked_in'));
    }, st);
    if (!answered && !current.revealed) {
      form.append(btn);
      if (!multiple) form.addEventListener('change', () => btn.run());
    }
    form.addEventListener('submit', (e) => { e.preventDefault(); btn.run(); });
    if (answered) confirm(st, t('quiz.locked_in'));
    if (current.revealed && you && you.last) {
      confirm(st, you.last.correct ? t('quiz.you_were_right', { points: num(you.last.points) }) : t('quiz.you_were_wrong'));
    } else if (current.revealed && current.correct) {
      confirm(st, t('quiz.answer_was', { answer: current.correct.map((i) => current.choices[i]).join(', ') }));
    }
    return h('div', { class: 'stack' }, form, you ? h('p', { class: 'you' },
      t('quiz.your_score', { score: num(you.score) }), you.rank ? ` · ${t('quiz.your_rank', { rank: you.rank })}` : '') : null);
  },

  buzzer({ activity, own, mine, submit }) {
    const ks = activity.kind_state || {};
    const you = own && own.you;
    const question = ks.question || 0;
    const already = (you && own.question === question && you.buzzed) || (mine || []).some((r) => (r.answer && (r.answer.question || 0)) === question);
    const st = status();
    const btn = h('button', { type: 'button', class: 'buzz-button', disabled: !ks.armed || already }, t('buzzer.buzz'));
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        await submit({ question });
        confirm(st, t('buzzer.buzzed'));
      } catch (error) {
        confirm(st, error.localized || error.message);
      }
    });
    if (already) confirm(st, you && you.position ? t('buzzer.your_position', { position: you.position }) : t('buzzer.buzzed'));
    else if (!ks.armed) confirm(st, t('buzzer.wait'));
    return h('div', { class: 'stack answer center' }, h('p', { class: 'lead' }, headline(activity)), btn, st,
      you && you.score != null ? h('p', { class: 'you' }, t('quiz.your_score', { score: num(you.score) })) : null);
  },
};

/**
 * A `submit` for phones: sends one answer with a fresh request id and keeps sending it, with
 * the same id, while the server is busy or away (see `persist`), so an answer the person
 * gave is never dropped and never counted twice. `hooks` show the waiting to the person.
 */
export function submitter(activityId, send, hooks = {}) {
  return (answer) => {
    const payload = { answer, client_request_id: requestId() };
    return persist(() => send(activityId, payload), hooks);
  };
}
