// A self-paced session on the phone: the participant goes through the course's steps (an
// activity, or one question of a quiz) with Back and Next, at their own pace. The server
// records when each step was first opened and times a quiz question from then; a reload
// comes back to the step opened last. Back is offered where the step before can still be
// changed (never into answers that are final). Once a step is answered, or its time ran
// out, it is opened again: the server then shows what the kind lets a person going alone
// see (a quiz question's answer, right or wrong, and the score so far).

import { h, t, fill, api, clock, countdown, errorText, persist, dateTime, announce } from './lib.js';
import { renderInput, submitter, kindOf } from './kinds.js';

/** Longest wait a browser timer takes (about 24 days). */
const TIMER_MAX_MS = 2 ** 31 - 1;

/**
 * Runs the course in `area` for the participant with `token`; answers go out through
 * `send` with `hooks` (kept on the phone until stored, as in the live session). Returns a
 * function that stops it.
 */
export function startCourse({ area, token, send, hooks }) {
  let stopped = false;
  let course = null;
  let steps = [];
  let index = 0;
  /** Counts the steps drawn, so that a timer or an answer of a step left since does nothing. */
  let drawn = 0;
  let stopClock = () => {};
  const timers = [];
  const call = (method, path, body) => persist(() => api(method, path, body, { token }));

  function later(ms, fn) {
    if (ms < TIMER_MAX_MS) timers.push(setTimeout(fn, ms));
  }

  async function load() {
    try {
      course = await call('GET', '/participants/me/course');
    } catch (error) {
      return message(errorText(error));
    }
    if (stopped) return;
    clock.sync(course.server_time);
    steps = course.activities.flatMap((a) => Array.from({ length: a.steps }, (_, step) => ({ a, step })));
    if (course.opening === 'not_yet_open') {
      later(clock.until(course.opens_at) + 500, load);
      return waiting(t('course.opens_at', { time: dateTime(course.opens_at) }));
    }
    if (course.opening === 'closed') return closed();
    if (course.closes_at) later(clock.until(course.closes_at), closed);
    if (!steps.length) return waiting(t('course.empty'));
    if (course.finished_at) return finished();
    go(resumeAt());
  }

  /** The step opened last: the highest one opened of the activity opened last. */
  function resumeAt() {
    const a = course.activities.find((x) => x.activity_id === course.current_activity_id);
    if (!a || !a.opened.length) return 0;
    const last = Math.max(...a.opened);
    return Math.max(0, steps.findIndex((s) => s.a === a && s.step === last));
  }

  async function go(at) {
    index = at;
    const { a, step } = steps[at];
    let opened;
    let mine;
    try {
      [opened, mine] = await Promise.all([
        call('POST', '/participants/me/steps', { activity_id: a.activity_id, step }),
        api('GET', `/activities/${a.activity_id}/responses/me`, undefined, { token }).then((r) => r.items).catch(() => []),
      ]);
    } catch (error) {
      return refused(error);
    }
    if (stopped) return;
    clock.sync(opened.server_time);
    if (!a.opened.includes(step)) a.opened.push(step);
    course.current_activity_id = a.activity_id;
    draw(opened, mine);
  }

  function refused(error) {
    if (error.code === 'session_closed') return closed();
    if (error.code === 'session_not_open') return load();
    return message(errorText(error));
  }

  function draw(opened, mine) {
    stopClock();
    const at = index;
    const draw = ++drawn;
    /** Opens this step again, if it is still the one shown. */
    const reopen = () => { if (!stopped && draw === drawn) go(at); };
    const activity = opened.activity;
    const kind = kindOf(activity.kind);
    const deadline = kind.ownDeadline ? null : activity.deadline_at;
    const stepEnds = kind.ownDeadline ? kind.deadline(activity, null) : null;
    if (stepEnds) later(Math.max(0, clock.until(stepEnds)) + 250, reopen);
    const clockEl = deadline ? h('span', { class: 'countdown', role: 'timer' }) : null;
    const before = index > 0 ? steps[index - 1] : null;
    const last = index === steps.length - 1;
    const submit = async (answer) => {
      try {
        const stored = await submitter(activity.id, send, hooks(`${activity.id}:${Date.now()}:${Math.random()}`))(answer);
        reopen();
        return stored;
      } catch (error) {
        if (error.code === 'session_closed') closed();
        error.localized = errorText(error);
        throw error;
      }
    };
    fill(area,
      h('div', { class: 'course-head' },
        h('p', { class: 'course-step', id: 'course-step' }, t('course.step_of', { n: index + 1, total: steps.length })),
        h('progress', { class: 'course-progress', max: steps.length, value: index + 1, 'aria-labelledby': 'course-step' }),
        course.closes_at ? h('p', { class: 'muted course-closes' }, t('course.closes_at', { time: dateTime(course.closes_at) })) : null),
      h('h2', { class: 'activity-title' }, activity.title),
      clockEl ? h('p', { class: 'phone-timer' }, t('run.time_left'), ' ', clockEl) : null,
      renderInput({ activity, results: null, own: opened.own_results, mine, submit, paced: true }),
      h('nav', { class: 'course-nav', 'aria-label': t('course.nav') },
        h('button', {
          type: 'button', class: 'button secondary', id: 'course-back',
          disabled: !before || before.a.final_answers,
          onclick: () => go(index - 1),
        }, t('course.back')),
        h('button', {
          type: 'button', class: 'button', id: 'course-next',
          onclick: () => (last ? finish() : go(index + 1)),
        }, last ? t('course.finish') : t('course.next'))));
    if (clockEl) stopClock = countdown(clockEl, deadline);
    announce(t('course.step_of', { n: index + 1, total: steps.length }));
  }

  async function finish() {
    try {
      await call('POST', '/participants/me/finish');
    } catch (error) {
      return refused(error);
    }
    course.finished_at = new Date().toISOString();
    finished();
  }

  function finished() {
    stopClock();
    fill(area, h('div', { class: 'done', id: 'course-done' },
      h('p', { class: 'lead' }, t('course.finished')),
      h('p', {}, t('phone.thanks')),
      h('button', { type: 'button', class: 'button secondary', id: 'course-review', onclick: () => go(0) }, t('course.review'))));
  }

  function closed() {
    if (stopped) return;
    stopClock();
    fill(area, h('div', { class: 'done', id: 'course-closed' }, h('p', { class: 'lead' }, t('error.session_closed')), h('p', {}, t('phone.thanks'))));
  }

  function waiting(text) {
    stopClock();
    fill(area, h('div', { class: 'waiting' }, h('p', { class: 'lead' }, text)));
  }

  function message(text) {
    fill(area, h('p', { class: 'notice error', role: 'alert' }, text));
  }

  load();
  return () => {
    stopped = true;
    stopClock();
    timers.forEach(clearTimeout);
  };
}
