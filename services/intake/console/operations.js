// The operations view (`/ui?tenantId=…`): the tenant's operations, newest first, filtered
// by status and paged with the API's cursor; rows move live with the tenant's events.

import { api, eventSource, EVENTS, Problem } from './api.js';
import { age, h, navigate, operationHref, problemBox, progressBar, setProgress, statusBadge, viewHref, viewLink, workflowText } from './dom.js';

const STATUSES = ['accepted', 'running', 'completed', 'failed', 'cancelled'];
/** Rows shown per page. */
const LIMIT = 20;

export async function renderOperations(main, { tenant, query }) {
  const status = STATUSES.includes(query.get('status')) ? query.get('status') : '';
  const cursor = query.get('cursor') || '';
  document.title = 'Operations · participant console';

  const filter = h('select', { id: 'status-filter', name: 'status' },
    h('option', { value: '' }, 'every status'),
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)));
  filter.addEventListener('change', () => navigate(viewHref('/ui', tenant, { status: filter.value })));
  const live = h('span', { id: 'live', class: 'live' }, 'connecting…');
  const rows = h('tbody');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const notice = h('div', { id: 'list-problem' });
  main.append(
    h('h1', {}, 'Operations'),
    h('p', { class: 'lede' }, 'Tenant ', h('code', { id: 'current-tenant' }, tenant), ', newest first.'),
    h('div', { class: 'toolbar' }, h('label', { for: 'status-filter' }, 'Status '), filter, live),
    notice,
    h('table', { id: 'operations', class: 'operations' },
      h('thead', {}, h('tr', {}, ['Operation', 'Kind', 'Status', 'Progress', 'Workflow id / step', 'Age'].map((t) => h('th', { scope: 'col' }, t)))),
      rows),
    pager);

  const load = async () => {
    const parameters = new URLSearchParams({ limit: String(LIMIT) });
    if (status) parameters.set('status', status);
    if (cursor) parameters.set('cursor', cursor);
    try {
      const { body } = await api(`/api/operations?${parameters}`, { tenant });
      notice.replaceChildren();
      rows.replaceChildren(...body.operations.map((doc) => row(doc, tenant)));
      if (!body.operations.length) rows.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, status ? `No ${status} operations.` : 'No operations yet.')));
      const pages = [];
      if (cursor) pages.push(viewLink('/ui', tenant, '« First page', { status }));
      if (body.nextCursor) pages.push(viewLink('/ui', tenant, 'Next page »', { status, cursor: body.nextCursor }));
      pager.replaceChildren(...pages);
    } catch (error) {
      if (!(error instanceof Problem)) throw error;
      notice.replaceChildren(problemBox(error.problem, 'The list could not be read'));
    }
  };
  await load();

  // Rows on the page move with their events; an operation the page does not show yet (a
  // new one, or one that left the filter) reloads the page, at most once a second.
  let reload = null;
  const scheduleReload = () => { reload ??= setTimeout(() => { reload = null; load(); }, 1000); };
  const events = eventSource('/api/events', tenant);
  events.onopen = () => { live.textContent = 'live'; live.classList.add('on'); };
  events.onerror = () => { live.textContent = 'reconnecting…'; live.classList.remove('on'); };
  for (const name of EVENTS) {
    events.addEventListener(name, (message) => {
      const doc = JSON.parse(message.data).operation;
      const shown = rows.querySelector(`tr[data-operation-id="${CSS.escape(doc.operationId)}"]`);
      if (shown && (!status || doc.status === status)) {
        update(shown, doc);
      } else if (shown || !cursor) {
        scheduleReload();
      }
    });
  }
  const ages = setInterval(() => {
    for (const cell of rows.querySelectorAll('td.age')) cell.textContent = age(cell.dataset.createdAt);
  }, 5000);
  return () => { events.close(); clearInterval(ages); clearTimeout(reload); };
}

function row(doc, tenant) {
  const tr = h('tr', { 'data-operation-id': doc.operationId },
    h('td', {}, h('a', { href: operationHref(doc.operationId, tenant), 'data-nav': true, class: 'id' }, doc.operationId)),
    h('td', { class: 'kind' }, doc.kind),
    h('td', { class: 'status-cell' }),
    h('td', {}, progressBar(doc.progress, `Progress of ${doc.operationId}`)),
    h('td', { class: 'workflow' }),
    h('td', { class: 'age', 'data-created-at': doc.createdAt, title: doc.createdAt }));
  update(tr, doc);
  return tr;
}

function update(tr, doc) {
  tr.querySelector('.status-cell').replaceChildren(statusBadge(doc));
  setProgress(tr.querySelector('[role=progressbar]'), doc.progress);
  tr.querySelector('.workflow').textContent = workflowText(doc.workflow);
  tr.querySelector('.age').textContent = age(doc.createdAt);
}
