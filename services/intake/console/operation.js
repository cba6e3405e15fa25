// One operation's view (`/ui/operations/{id}?tenantId=…`): its status document laid out
// for people, moving live with its event stream, with its per-item errors, its events,
// its callback, its compensation, and the buttons that cancel and compensate it.

import { api, eventSource, EVENTS, Problem, TERMINAL } from './api.js';
import { facts, h, operationHref, problemBox, progressBar, setProgress, statusBadge, time, viewLink } from './dom.js';
import { itemErrors } from './item_errors.js';
import { timeline } from './timeline.js';

/** How often a compensation still under way is looked at again. */
const COMPENSATION_REFRESH_MS = 2000;

export async function renderOperation(main, { tenant, id }) {
  document.title = `Operation ${id} · participant console`;
  main.append(h('p', { class: 'crumbs' }, viewLink('/ui', tenant, 'Operations'), ' / ', h('code', {}, id)));
  let current;
  try {
    current = (await api(`/api/operations/${encodeURIComponent(id)}`, { tenant })).body;
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    main.append(h('h1', {}, 'Operation'), problemBox(error.problem, 'This operation cannot be shown'));
    return () => {};
  }

  const page = layout(current, tenant);
  main.append(page.root);
  let refresh = null;
  const render = (doc) => {
    current = doc;
    page.render(doc);
    const compensating = doc.compensation && !TERMINAL.includes(doc.compensation.status);
    if (compensating && refresh === null) {
      refresh = setTimeout(async () => {
        refresh = null;
        try {
          render((await api(`/api/operations/${encodeURIComponent(id)}`, { tenant })).body);
        } catch (error) {
          if (!(error instanceof Problem)) throw error;
          page.outcome.replaceChildren(problemBox(error.problem, 'The compensation could not be followed'));
        }
      }, COMPENSATION_REFRESH_MS);
    }
  };
  render(current);

  const events = eventSource(`/api/operations/${encodeURIComponent(id)}/events`, tenant);
  events.onopen = () => page.live('live');
  events.onerror = () => page.live('reconnecting…');
  for (const name of EVENTS) {
    events.addEventListener(name, (message) => {
      const payload = JSON.parse(message.data);
      page.events.add(payload);
      if (Date.parse(payload.operation.updatedAt) >= Date.parse(current.updatedAt)) render(payload.operation);
      if (TERMINAL.includes(name)) {
        events.close();
        page.live('ended');
      }
    });
  }

  const act = async (button, question, call) => {
    if (!window.confirm(question)) return;
    button.disabled = true;
    page.outcome.replaceChildren(h('p', {}, 'Asking the service…'));
    try {
      page.outcome.replaceChildren(await call());
    } catch (error) {
      if (!(error instanceof Problem)) throw error;
      page.outcome.replaceChildren(problemBox(error.problem, `${button.textContent} refused`));
    } finally {
      button.disabled = false;
    }
  };
  page.cancel.addEventListener('click', () => act(page.cancel, `Cancel operation ${id}? A running import stops at its next checkpoint and keeps what it has done.`, async () => {
    const { status, body } = await api(`/api/operations/${encodeURIComponent(id)}`, { method: 'DELETE', tenant });
    if (Date.parse(body.updatedAt) >= Date.parse(current.updatedAt)) render(body);
    return h('p', { class: 'done' }, status === 202 ? 'Cancel requested: the worker stops at its next checkpoint.' : 'Cancelled.');
  }));
  page.compensate.addEventListener('click', () => act(page.compensate, `Compensate operation ${id}? This starts a new operation that undoes what it did.`, async () => {
    const { body } = await api(`/api/operations/${encodeURIComponent(id)}/compensate`, { method: 'POST', tenant });
    render((await api(`/api/operations/${encodeURIComponent(id)}`, { tenant })).body);
    return h('p', { class: 'done' }, 'Compensation started: ', h('a', { href: operationHref(body.operationId, tenant), 'data-nav': true }, body.operationId), '.');
  }));

  return () => { events.close(); clearTimeout(refresh); };
}

/** The sections of the view, and how a status document fills them. */
function layout(doc, tenant) {
  const status = h('span', { id: 'status' });
  const bar = progressBar(doc.progress, 'Progress of this operation');
  bar.id = 'progress';
  const counts = h('p', { id: 'progress-counts', class: 'counts' });
  const live = h('span', { id: 'live', class: 'live' }, 'connecting…');
  const cancel = h('button', { type: 'button', id: 'cancel', class: 'danger' }, 'Cancel');
  const compensate = h('button', { type: 'button', id: 'compensate' }, 'Compensate');
  const outcome = h('div', { id: 'action-outcome', 'aria-live': 'polite' });
  const result = h('div', { id: 'result' });
  const details = h('div', { id: 'details' });
  const links = h('div', { id: 'links' });
  const callback = h('div', { id: 'callback' });
  const errors = itemErrors();
  const events = timeline();
  const section = (id, title, ...content) => h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...content);

  const root = h('div', { class: 'operation' },
    h('h1', {}, 'Operation ', h('code', { id: 'operation-id' }, doc.operationId), ' ', status),
    h('div', { class: 'headline' }, bar, counts, live),
    h('div', { class: 'actions' }, cancel, compensate, h('span', { class: 'hint' }, 'Each asks first; the service says when it refuses.')),
    outcome,
    h('div', { class: 'columns' },
      h('div', {}, section('result-heading', 'Outcome', result), section('links-heading', 'Compensation', links), section('callback-heading', 'Callback', callback)),
      section('details-heading', 'Details', details)),
    errors.section,
    events.section);

  return {
    root, cancel, compensate, outcome, events,
    live(text) { live.textContent = text; live.classList.toggle('on', text === 'live'); },
    render(doc) {
      status.replaceChildren(statusBadge(doc));
      setProgress(bar, doc.progress);
      counts.textContent = `${doc.progress.current.toLocaleString()} of ${doc.progress.total.toLocaleString()} items`;
      result.replaceChildren(...outcomeOf(doc));
      details.replaceChildren(detailsOf(doc));
      links.replaceChildren(linksOf(doc, tenant));
      callback.replaceChildren(callbackOf(doc));
      errors.show(doc.result);
    },
  };
}

function outcomeOf(doc) {
  const shown = [];
  if (doc.result) {
    const { processed, succeeded, failed } = doc.result;
    shown.push(facts([
      ['Processed', processed.toLocaleString()],
      ['Succeeded', succeeded.toLocaleString()],
      ['Failed items', h('span', { id: 'failed-items' }, failed.toLocaleString())],
    ]));
  }
  if (doc.error) shown.push(problemBox(doc.error, 'The operation failed'));
  if (!doc.result && !doc.error) {
    const waiting = { accepted: 'Waiting for a worker.', running: 'Running.', cancelled: 'Cancelled before it ran.' };
    shown.push(h('p', { class: 'none' }, waiting[doc.status] || 'No result.'));
  }
  return shown;
}

function detailsOf(doc) {
  const workflow = doc.workflow || {};
  return facts([
    ['Kind', h('code', {}, doc.kind)],
    ['Attempt', String(doc.attempt)],
    ['Cancel requested', doc.cancelRequested ? 'yes' : 'no'],
    ['Created', time(doc.createdAt)],
    ['Started', time(doc.startedAt)],
    ['Updated', time(doc.updatedAt)],
    ['Completed', time(doc.completedAt)],
    ['Workflow id', workflow.id],
    ['Workflow step', workflow.step],
    ['Workflow name', workflow.name],
    ['Organisation', doc.orgId],
    ['Actor', doc.actorId],
    ['Correlation id', h('code', {}, doc.correlationId)],
    ['Tenant', h('code', {}, doc.tenantId)],
  ]);
}

function linksOf(doc, tenant) {
  const link = (operation) => h('a', { href: operationHref(operation, tenant), 'data-nav': true, class: 'id' }, operation);
  if (doc.compensates) return h('p', { id: 'compensates' }, 'Undoes ', link(doc.compensates), '.');
  if (doc.compensation) {
    return h('p', { id: 'compensated-by' }, 'Compensated by ', link(doc.compensation.operationId), ' ', statusBadge(doc.compensation), '.');
  }
  return h('p', { class: 'none' }, 'Not compensated.');
}

function callbackOf(doc) {
  if (!doc.callback) return h('p', { class: 'none' }, 'No webhook: the operation was started without X-Callback-Url.');
  return facts([
    ['Status', h('span', { id: 'callback-status', class: `callback-${doc.callback.status}` }, doc.callback.status)],
    ['Attempts', String(doc.callback.attempts)],
    ['Last error', doc.callback.lastError],
  ]);
}
