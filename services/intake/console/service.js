// The service view (`/ui/service`): readiness and capabilities, the workers' backlog and
// the dead letters, refreshed on their own every few seconds.

import { api, Problem } from './api.js';
import { facts, h, problemBox } from './dom.js';

/** How often the view reads the service again. */
const REFRESH_MS = 5000;

export async function renderService(main) {
  document.title = 'Service · participant console';
  const stamp = h('span', { id: 'refreshed' }, 'reading…');
  const readiness = h('div', { id: 'readiness' });
  const queues = h('div', { id: 'queues' });
  const section = (id, title, content) => h('section', { 'aria-labelledby': id }, h('h2', { id }, title), content);
  main.append(
    h('h1', {}, 'Service'),
    h('p', { class: 'lede' }, `Read again every ${REFRESH_MS / 1000} s; last read `, stamp, '.'),
    h('div', { class: 'columns' }, section('readiness-heading', 'Readiness', readiness), section('queues-heading', 'Jobs and dead letters', queues)));

  const read = async () => {
    const [ready, counts] = await Promise.allSettled([api('/health/ready'), api('/ui/api/service')]);
    readiness.replaceChildren(ready.status === 'fulfilled' ? readinessOf(ready.value.body) : refused(ready.reason, 'Readiness could not be read'));
    queues.replaceChildren(counts.status === 'fulfilled' ? queuesOf(counts.value.body) : refused(counts.reason, 'The counts could not be read'));
    stamp.textContent = new Date().toLocaleTimeString();
    stamp.dataset.reads = String(Number(stamp.dataset.reads || 0) + 1);
  };
  await read();
  const timer = setInterval(read, REFRESH_MS);
  return () => clearInterval(timer);
}

function readinessOf(body) {
  const checks = Object.entries(body.checks || {}).map(([name, state]) =>
    h('tr', { 'data-check': name }, h('th', { scope: 'row' }, name), h('td', { class: state === 'ok' ? 'ok' : 'bad' }, state)));
  return h('div', {},
    h('p', {}, h('span', { id: 'readiness-status', class: `status status-${body.status === 'ready' ? 'completed' : 'failed'}` }, body.status)),
    h('table', { id: 'checks', class: 'checks' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Check'), h('th', { scope: 'col' }, 'State'))), h('tbody', {}, checks)),
    h('h3', {}, 'Capabilities'),
    h('ul', { id: 'capabilities', class: 'chips' }, (body.capabilities || []).map((c) => h('li', {}, c))),
    h('h3', {}, 'API versions'),
    h('ul', { class: 'chips' }, (body.apiVersions || []).map((v) => h('li', {}, v))));
}

function queuesOf(body) {
  const count = (id, n) => h('span', { id, class: 'count' }, Number(n).toLocaleString());
  return h('div', {},
    h('h3', {}, 'The workers\u2019 consumer'),
    facts([
      ['Pending (not yet delivered)', count('jobs-pending', body.jobs.pending)],
      ['Ack pending (with a worker)', count('jobs-ack-pending', body.jobs.ackPending)],
      ['Redelivered', count('jobs-redelivered', body.jobs.redelivered)],
    ]),
    h('h3', {}, 'Dead letters'),
    facts([
      ['Jobs', count('dead-letter-jobs', body.deadLetters.jobs)],
      ['Callbacks', count('dead-letter-callbacks', body.deadLetters.callbacks)],
    ]));
}

function refused(error, heading) {
  if (error instanceof Problem) return problemBox(error.problem, heading);
  throw error;
}
