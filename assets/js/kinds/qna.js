// Moderated Q&A: the question wall; on a phone, asking and upvoting.
// See docs/activity-kinds.md for what a kind's module may provide.

import { h, t, num, srOnly, messageOf } from '../lib.js';
import { empty, nameOrAnonymous, olderEntries, button, moderation, current, sendButton, status, confirm } from './parts.js';

export default {
  inputUsesResults: true,

  results(activity, r, mode, act) {
    const wall = h('ol', { class: 'wall', 'data-fit': 'list', 'data-rotate': `questions:${activity.id}`, 'data-total': r.visible }, r.questions.map((q) => h('li', { 'data-key': `question:${q.id}`, class: `question${q.pinned ? ' pinned' : ''}${q.answered ? ' answered' : ''}` },
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

  input({ activity, results, own, submit }) {
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
              try { await submit(voted ? { unvote: q.id } : { upvote: q.id }); } catch (error) { confirm(st, messageOf(error)); } finally { vote.disabled = false; }
            },
          }, h('span', { 'aria-hidden': 'true' }, '▲ '), num(q.votes), srOnly(` ${t(voted ? 'qna.remove_vote' : 'qna.upvote', { text: q.text })}`));
          return h('li', { class: q.answered ? 'answered' : '' }, vote, h('span', {}, q.text, h('span', { class: 'question-by' }, ' — ', nameOrAnonymous(q.author))));
        })) : empty(t('qna.none_yet'))));
  },
};
