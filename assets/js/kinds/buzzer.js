// A buzzer: who buzzed in what order, and the scores; on a phone, one big button.
// See docs/activity-kinds.md for what a kind's module may provide.

import { h, t, num, messageOf } from '../lib.js';
import { empty, button, status, confirm, teamRace } from './parts.js';

/** What the room reads as the question. */
function headline(activity) {
  return (activity.kind_state && activity.kind_state.prompt) || activity.config.prompt;
}

/** One question's buzzes as the report lists them: who, in what order, and the verdict. */
function questionBuzzes(number, prompt, buzzes) {
  return h('section', { class: 'report-question' },
    h('h4', {}, t('buzzer.question_n', { n: number }), prompt ? `: ${prompt}` : ''),
    buzzes.length ? h('ol', { class: 'plain' }, buzzes.map((b) => h('li', {},
      `${b.position}. `, h('span', { class: 'who-name', title: b.nickname }, b.nickname),
      b.position > 1 ? ` (${t('buzzer.behind', { ms: num(b.behind_ms) })})` : '',
      b.judged === true ? h('span', { class: 'badge done' }, t('buzzer.right')) : null,
      b.judged === false ? h('span', { class: 'badge' }, t('buzzer.wrong')) : null))) : empty(t('buzzer.no_buzzes')));
}

/** The report: every question that was armed, then the scores. */
function report(r) {
  const questions = [...(r.earlier || []).map((q) => questionBuzzes(q.question, q.prompt, q.buzzes))];
  if (r.question > 0) questions.push(questionBuzzes(r.question, r.prompt, r.buzzes));
  return h('div', { class: 'results buzzer' },
    questions.length ? questions : empty(t('report.no_answers')),
    r.scores.length ? h('section', { class: 'scores' }, h('h3', {}, t('buzzer.scores')), h('ol', { class: 'leaderboard' }, r.scores.map((s) => h('li', {},
      h('span', { class: 'rank' }, `${s.rank}.`), h('span', { class: 'name', title: s.nickname }, s.nickname), h('span', { class: 'score' }, num(s.score)))))) : null,
    teamRace(r.teams));
}

export default {
  headline,

  inputUsesResults: true,

  controls(activity, command, act) {
    const prompt = h('input', { id: 'buzzer-prompt', maxlength: 300, placeholder: t('run.buzzer_prompt') });
    return [
      activity.kind_state && activity.kind_state.armed ? command(t('run.disarm'), 'disarm') : null,
      h('span', { class: 'inline' }, h('label', { for: 'buzzer-prompt', class: 'sr-only' }, t('run.buzzer_prompt')), prompt,
        h('button', { type: 'button', class: 'button', onclick: () => act('arm', prompt.value.trim() ? { prompt: prompt.value.trim() } : {}) }, t('run.arm'))),
    ];
  },

  results(activity, r, mode, act) {
    if (mode === 'report') return report(r);
    return h('div', { class: 'results buzzer' },
      h('p', { class: `armed-state ${r.armed ? 'armed' : ''}` }, r.armed ? t('buzzer.armed') : t('buzzer.not_armed')),
      r.buzzes.length ? h('ol', { class: 'buzzes', 'data-fit': 'list' }, r.buzzes.map((b) => h('li', { 'data-key': `buzz:${b.nickname}`, class: `buzz${b.locked_out ? ' locked' : ''}${b.judged === true ? ' right' : ''}${b.judged === false ? ' wrong' : ''}` },
        h('span', { class: 'position' }, `${b.position}.`),
        h('span', { class: 'buzz-name', title: b.nickname }, b.nickname),
        h('span', { class: 'buzz-time' }, b.position === 1 ? t('buzzer.after', { ms: num(b.after_ms) }) : t('buzzer.behind', { ms: num(b.behind_ms) })),
        b.judged === true ? h('span', { class: 'badge done' }, t('buzzer.right')) : null,
        b.judged === false ? h('span', { class: 'badge' }, t('buzzer.wrong')) : null,
        b.locked_out ? h('span', { class: 'badge' }, t('buzzer.locked_out')) : null,
        mode === 'organizer' && act && b.participant_id && b.judged == null ? h('span', { class: 'actions' },
          button(t('buzzer.judge_right'), () => act('judge', { participant_id: b.participant_id, correct: true }), 'small'),
          button(t('buzzer.judge_wrong'), () => act('judge', { participant_id: b.participant_id, correct: false }), 'small secondary')) : null))) : empty(t('buzzer.no_buzzes')),
      // The team race above the players' scores, in one column beside the buzzes.
      h('div', { class: 'boards' }, teamRace(r.teams),
        r.scores.length ? h('section', { class: 'scores' }, h('h3', {}, t('buzzer.scores')), h('ol', { class: 'leaderboard', 'data-fit': 'list' }, r.scores.map((s) => h('li', { 'data-key': `score:${s.nickname}` },
          h('span', { class: 'rank' }, `${s.rank}.`), h('span', { class: 'name', title: s.nickname }, s.nickname), h('span', { class: 'score' }, num(s.score)))))) : null));
  },

  input({ activity, own, mine, submit }) {
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
        confirm(st, messageOf(error));
      }
    });
    if (already) confirm(st, you && you.position ? t('buzzer.your_position', { position: you.position }) : t('buzzer.buzzed'));
    else if (!ks.armed) confirm(st, t('buzzer.wait'));
    return h('div', { class: 'stack answer center' }, h('p', { class: 'lead' }, headline(activity) || activity.title), btn, st,
      you && you.score != null ? h('p', { class: 'you' }, t('quiz.your_score', { score: num(you.score) })) : null);
  },
};
