// The activity kinds as the pages see them. Each kind's browser code is one module,
// `assets/js/kinds/<kind>.js`, loaded here for every kind the server registers (the page's
// `data-kinds`), so the server's registry is the one list. Pages ask this module, never a
// kind's name. What a module may provide is in docs/activity-kinds.md.

import { h, t, requestId, persist } from './lib.js';
import { empty, setTeams as tellParts, teamName as nameOfTeam } from './kinds/parts.js';

/** Tells the kinds the session's teams (null for none), for their team race. */
export function setTeams(teams) {
  tellParts(teams);
}

/** A team's name by its number, as the session calls it. */
export function teamName(team) {
  return nameOfTeam(team);
}

const EMOJI = { thumbs_up: '👍', heart: '❤️', laugh: '😂', wow: '😮', clap: '👏', party: '🎉' };
export const REACTIONS = Object.entries(EMOJI);

/** What a kind that provides nothing else does. */
const DEFAULTS = {
  /** Its question as the room reads it; `undefined` falls back to the config's, then the title. */
  headline: () => undefined,
  /** Results for the big screen, the run view, the report and phones. */
  results: null,
  /** The input on a phone. */
  input: null,
  /** The phone shows results under the input when they are visible. */
  phoneResults: true,
  /** The phone's input is drawn from the results (or the person's own view), so it is drawn again when they change. */
  inputUsesResults: false,
  /** Results can be revealed even when the activity shows them live (they are hidden until then whatever the setting). */
  alwaysRevealable: false,
  /** The results visibility a new activity starts with in the builder. */
  defaultVisibility: 'live',
  /** The run view's label for `new_round`. */
  newRoundLabel: 'run.new_round',
  /** The kind times its own steps (a quiz's questions), so the framework's add-time does not apply. */
  ownDeadline: false,
  /** When the running step ends, if the kind times its own steps. */
  deadline: () => null,
  /** A line under the kind's name on the big screen (a quiz's "question 2 of 5"). */
  subtitle: () => null,
  /** The big screen while results are hidden; null for the framework's notice. */
  waiting: () => null,
  /** The run view's controls beyond close, reveal and new round. */
  controls: () => [],
  /** The config a phone is shown for `config`, for the builder's preview. */
  preview: (config) => config,
};

const names = (document.body.dataset.kinds || '').split(' ').filter(Boolean);
const loaded = await Promise.all(names.map(async (name) => {
  try {
    return [name, { ...DEFAULTS, ...(await import(`./kinds/${name}.js`)).default }];
  } catch (error) {
    // A kind without a module still works on the server: pages show its results as JSON.
    console.warn(`no browser module for the ${name} kind`, error);
    return [name, DEFAULTS];
  }
}));
const KINDS = new Map(loaded);

/** The browser side of a kind, by its name (an unknown kind gets the defaults). */
export function kindOf(name) {
  return KINDS.get(name) || DEFAULTS;
}

/** The heading of an activity: its question, prompt, story or title. */
export function headline(activity) {
  const c = activity.config || {};
  return kindOf(activity.kind).headline(activity) || c.question || c.prompt || c.topic || activity.title;
}

/**
 * Results of any kind. `mode` is 'screen' (the big screen), 'organizer' (the run view, with
 * what only the organizer sees), 'report' or 'phone'. `act(command, args)` is given on the
 * run view for moderation buttons.
 */
export function renderResults(activity, results, mode = 'screen', act = null) {
  if (!results) return empty(t('results.hidden'));
  const kind = kindOf(activity.kind);
  return kind.results ? kind.results(activity, results, mode, act) : h('pre', {}, JSON.stringify(results, null, 2));
}

/**
 * The input for the current activity on a phone. `ctx` has `activity`, `results` (visible
 * results or null), `own` (the participant's own view from GET results, or null),
 * `mine` (their stored answers for this round) and `submit(answer)` which resolves when the
 * server has stored it.
 */
export function renderInput(ctx) {
  const kind = kindOf(ctx.activity.kind);
  return kind.input ? kind.input(ctx) : empty(t('phone.unsupported'));
}

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
