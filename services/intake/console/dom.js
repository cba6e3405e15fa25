// Building the page: elements made with text nodes only (nothing the API answers is ever
// parsed as HTML), and the pieces every view shares.

/**
 * An element: `h('a', {href: '/ui', class: 'x', on: {click: f}}, 'text', child)`.
 * Attributes are set as attributes; children are nodes or text.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'on') {
      for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  element.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return element;
}

/** The address of a view, with the tenant and any other parameters. */
export function viewHref(path, tenant, parameters = {}) {
  const query = new URLSearchParams();
  if (tenant) query.set('tenantId', tenant);
  for (const [name, value] of Object.entries(parameters)) if (value) query.set(name, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** A link to another view of the console, followed without reloading the page. */
export function viewLink(path, tenant, text, parameters = {}) {
  return h('a', { href: viewHref(path, tenant, parameters), 'data-nav': true }, text);
}

/** The address of one operation's view. */
export function operationHref(id, tenant) {
  return viewHref(`/ui/operations/${encodeURIComponent(id)}`, tenant);
}

/** A progress bar (`role=progressbar`) for a status document's `progress`. */
export function progressBar(progress, label = 'Progress') {
  const fill = h('span', { class: 'fill' });
  const text = h('span', { class: 'pct' });
  const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-label': label }, fill, text);
  setProgress(bar, progress);
  return bar;
}

/** Moves a bar made by `progressBar`. */
export function setProgress(bar, progress) {
  const percentage = Math.max(0, Math.min(100, Number(progress?.percentage) || 0));
  bar.setAttribute('aria-valuenow', String(percentage));
  bar.setAttribute('aria-valuetext', `${percentage} %, ${progress?.current ?? 0} of ${progress?.total ?? 0}`);
  bar.querySelector('.fill').style.width = `${percentage}%`;
  bar.querySelector('.pct').textContent = `${percentage} %`;
}

/** An operation's status, coloured by what it means. */
export function statusBadge(document) {
  return h('span', { class: `status status-${document.status}`, 'data-status': document.status },
    document.status, document.cancelRequested && document.status === 'running' ? ' (cancel requested)' : '');
}

/** How long ago an RFC 3339 time was, shortly: `12 s`, `5 min`, `3 h`, `2 d`. */
export function age(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return '—';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86400)} d`;
}

/** A time for people, in the browser's zone, with the exact value on hover. */
export function time(iso) {
  if (!iso) return h('span', { class: 'none' }, '—');
  return h('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString());
}

/** The problem an answer carried, laid out: title and status, detail, code, field errors. */
export function problemBox(problem, heading = 'The service refused') {
  const fields = (problem.errors || []).map((e) => h('li', {}, h('code', {}, e.pointer), ` ${e.detail}`));
  return h('div', { class: 'problem', role: 'alert' },
    h('strong', { class: 'problem-title' }, `${heading}: ${problem.status ? `${problem.status} ` : ''}${problem.title || ''}`),
    problem.detail ? h('p', { class: 'problem-detail' }, problem.detail) : null,
    fields.length ? h('ul', {}, fields) : null,
    h('p', { class: 'problem-meta' },
      problem.code ? ['code ', h('code', {}, problem.code)] : null,
      problem.retryable ? ' · may succeed if retried' : null,
      problem.correlationId ? [' · correlation ', h('code', {}, problem.correlationId)] : null));
}

/** A description list of `[term, value]` pairs; values may be nodes or text. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.flatMap(([term, value]) => [
    h('dt', {}, term),
    h('dd', {}, value === undefined || value === null || value === '' ? h('span', { class: 'none' }, '—') : value),
  ]));
}

/** The workflow of a status document as `id / step`, or a dash. */
export function workflowText(workflow) {
  if (!workflow || (!workflow.id && !workflow.step)) return '—';
  return [workflow.id, workflow.step].filter(Boolean).join(' / ');
}

/** Goes to another view of the console without reloading the page. */
export function navigate(href) {
  history.pushState(null, '', href);
  window.dispatchEvent(new Event('console:navigate'));
}
