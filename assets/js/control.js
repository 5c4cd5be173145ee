// What the organizer does while running a session, shared by the run view and the big
// screen's keyboard: step to the next activity, open, close, reveal.

import { api } from './lib.js';

/** Moves an activity to `to` through the states it must pass (draft → published → active). */
export async function activate(activity) {
  if (activity.state === 'draft') await api('POST', `/activities/${activity.id}/transition`, { to: 'published' });
  return api('POST', `/activities/${activity.id}/transition`, { to: 'active' });
}

export function close(activityId) {
  return api('POST', `/activities/${activityId}/transition`, { to: 'closed' });
}

export function command(activityId, name, args = {}) {
  return api('POST', `/activities/${activityId}/commands/${name}`, args);
}

/**
 * Closes the running activity and starts the next one in agenda order that has not run yet.
 * Returns the started activity, or null at the end of the agenda.
 */
export async function next(sessionId) {
  const { items } = await api('GET', `/sessions/${sessionId}/activities`);
  const ordered = [...items].sort((a, b) => a.position - b.position);
  const running = ordered.find((a) => a.state === 'active');
  let from = -Infinity;
  if (running) {
    await close(running.id);
    from = running.position;
  } else {
    const ran = ordered.filter((a) => a.state === 'closed');
    if (ran.length) from = Math.max(...ran.map((a) => a.position));
  }
  const upcoming = ordered.find((a) => a.position > from && (a.state === 'draft' || a.state === 'published'));
  if (!upcoming) return null;
  await activate(upcoming);
  return upcoming;
}

/** Shows or hides the results of the running activity on the big screen and phones. */
export function toggleReveal(activity) {
  return command(activity.id, activity.results_revealed ? 'hide' : 'reveal');
}
