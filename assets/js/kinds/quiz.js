// A quiz: the current question's answers and the leaderboard; on a phone, the choices with a countdown.
// See docs/activity-kinds.md for what a kind's module may provide.

import { h, t, num, srOnly, countdown, clock } from '../lib.js';
import { bars, empty, sendButton, status, confirm, choiceList, picked, tiles, teamRace } from './parts.js';
import { rich } from '../rich.js';

/** The countdown of the quiz question on screen; a redraw replaces it. */
let stopQuizClock = () => {};

/** The room sees the top 10 and how many are ranked; the organizer sees everyone. */
const TOP = 10;

function leaderboard(rows, mode, players) {
  if (!rows || !rows.length) return mode === 'phone' ? null : empty(t('quiz.no_leaderboard'));
  const shown = mode === 'organizer' ? rows : rows.slice(0, TOP);
  const count = Math.max(players || 0, rows.length);
  return h('section', { class: 'board' }, h('h3', {}, t('quiz.leaderboard')),
    h('ol', { class: 'leaderboard', 'data-fit': 'list' }, shown.map((s) => h('li', { 'data-key': `player:${s.nickname}` },
      h('span', { class: 'rank' }, `${s.rank}.`), h('span', { class: 'name', title: s.nickname }, s.nickname),
      h('span', { class: 'score' }, num(s.score)), srOnly(` ${t('quiz.points')}`)))),
    h('p', { class: 'total' }, count > shown.length ? t('quiz.top_of', { shown: num(shown.length), count }) : t('quiz.players', { count })));
}

/** The report: every question asked, its answers with the right one marked, then the leaderboard. */
function report(activity, r) {
  const questions = activity.config.questions || [];
  return h('div', { class: 'results quiz' },
    r.questions.length ? r.questions.map((q) => {
      const asked = questions[q.index] || { question: '', choices: [] };
      const total = (q.distribution || []).reduce((a, b) => a + b, 0);
      return h('section', { class: 'report-question' },
        h('h4', {}, t('quiz.question_of', { n: q.index + 1, total: questions.length }), `: ${asked.question}`),
        q.distribution ? bars(asked.choices.map((label, i) => ({
          label, count: q.distribution[i] || 0, percent: total ? (100 * (q.distribution[i] || 0)) / total : 0,
        })), { highlight: (i) => (q.correct || []).includes(i), shapes: true }) : null,
        h('p', { class: 'total' }, q.correct_count != null ? t('quiz.correct_count', { count: q.correct_count, answered: num(q.answered) }) : t('quiz.answered', { count: q.answered })));
    }) : empty(t('report.no_answers')),
    teamRace(r.teams), leaderboard(r.leaderboard, 'organizer', r.players));
}

export default {
  headline(activity) {
    const current = activity.config.current;
    return current && current.question;
  },

  inputUsesResults: true,
  ownDeadline: true,

  /** When the current question ends: the run view reads it from results, screens from the config. */
  deadline(activity, results) {
    if (results && results.deadline_at) return results.deadline_at;
    const current = activity.config.current;
    return current && !current.revealed ? current.deadline_at : null;
  },

  subtitle(activity) {
    const current = activity.config.current;
    return current ? t('quiz.question_of', { n: current.index + 1, total: activity.config.question_count }) : null;
  },

  /** The big screen before the answers are revealed: the choices in their colours. */
  waiting(activity) {
    const current = activity.config.current;
    return current ? tiles(current.choices, { shapes: true }) : null;
  },

  controls(activity, command, act, results) {
    const current = results && results.current;
    const total = (activity.config.questions || []).length;
    const revealed = activity.kind_state && (activity.kind_state.revealed || []).includes(current);
    return [
      current == null || current + 1 < total ? command(current == null ? t('run.first_question') : t('run.next_question'), 'next', {}, 'primary') : null,
      current != null && !revealed ? command(t('run.reveal_answer'), 'reveal_answer') : null,
    ];
  },

  /** What a phone shows for a config in the builder's preview: the first question. */
  preview(config) {
    const q = (config.questions || [])[0] || { question: '', choices: [] };
    return { question_count: (config.questions || []).length, current: { index: 0, question: q.question, choices: q.choices || [], picks: Math.max(1, (q.correct || []).length) } };
  },

  results(activity, r, mode) {
    if (mode === 'report') return report(activity, r);
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
        })), { highlight: (i) => (q.correct || []).includes(i), shapes: true }));
        if (q.correct_count != null) parts.push(h('p', { class: 'total' }, t('quiz.correct_count', { count: q.correct_count, answered: num(q.answered) })));
      } else {
        // Before the reveal the room reads the choices, as the phones show them.
        if (mode === 'screen' && choices.length) parts.push(tiles(choices, { shapes: true }));
        parts.push(h('p', { class: 'total' }, t('quiz.answered', { count: q.answered })));
      }
    }
    // The question and the boards side by side, so both fit a 16:9 screen: with teams, the
    // team race above the players' top five.
    const race = teamRace(r.teams);
    const players = race && mode === 'screen' ? (r.leaderboard || []).slice(0, 5) : r.leaderboard;
    const boards = race ? h('div', { class: 'boards' }, race, leaderboard(players, mode, r.players)) : leaderboard(players, mode, r.players);
    return h('div', { class: 'results quiz' }, h('div', { class: 'quiz-question' }, parts), boards);
  },

  input({ activity, own, mine, submit, paced }) {
    const current = activity.config.current;
    if (!current) return h('p', { class: 'lead waiting' }, t('quiz.get_ready'));
    const you = own && own.you;
    const st = status();
    const clockEl = h('span', { class: 'countdown', role: 'timer', 'aria-label': t('quiz.seconds_left') });
    const over = () => clock.until(current.deadline_at) <= 0;
    const mineNow = (mine || []).map((r) => r.answer).find((a) => a && a.question === current.index);
    const answered = (you && you.answered_current) || !!mineNow;
    const multiple = current.picks > 1;
    const list = choiceList('quiz', current.choices, multiple, mineNow ? mineNow.choices : [], answered || current.revealed, { shapes: true });
    if (current.revealed && current.correct) {
      current.correct.forEach((i) => {
        const label = list.querySelectorAll('label')[i];
        if (label) label.append(h('span', { 'aria-hidden': 'true' }, ' ✓'), srOnly(` ${t('quiz.correct_answer')}`));
      });
    }
    const form = h('form', { class: 'stack answer' },
      h('p', { class: 'quiz-meta' }, t('quiz.question_of', { n: current.index + 1, total: activity.config.question_count }),
        current.revealed || !current.deadline_at ? null : [' · ', clockEl]),
      h('fieldset', {}, h('legend', {}, rich(current.question), multiple ? h('span', { class: 'hint' }, ' ', t('quiz.pick_n', { count: current.picks })) : null),
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
      confirm(st, t(paced ? 'quiz.locked_in_paced' : 'quiz.locked_in'));
    }, st);
    if (!answered && !current.revealed) {
      form.append(btn);
      if (!multiple) form.addEventListener('change', () => btn.run());
    }
    form.addEventListener('submit', (e) => { e.preventDefault(); btn.run(); });
    if (answered) confirm(st, t(paced ? 'quiz.locked_in_paced' : 'quiz.locked_in'));
    if (current.revealed && you && you.last) {
      confirm(st, you.last.correct ? t('quiz.you_were_right', { count: you.last.points }) : t('quiz.you_were_wrong'));
    } else if (current.revealed && current.correct) {
      confirm(st, t('quiz.answer_was', { answer: current.correct.map((i) => current.choices[i]).join(', ') }));
    }
    return h('div', { class: 'stack' }, form, you ? h('p', { class: 'you' },
      t('quiz.your_score', { score: num(you.score) }), you.rank ? ` · ${t('quiz.your_rank', { rank: you.rank })}` : '') : null);
  },
};
