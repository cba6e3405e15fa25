// The console's entry: picks the view from the address (every view has its own, so it can
// be pasted into a chat), keeps the tenant in it, and follows links without reloading.

import { h, navigate, viewHref } from './dom.js';
import { renderOperations } from './operations.js';
import { renderOperation } from './operation.js';
import { renderService } from './service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const VIEWS = [
  { pattern: /^\/ui$/, render: renderOperations, nav: 'nav-operations', tenant: true },
  { pattern: /^\/ui\/operations\/([^/]+)$/, render: renderOperation, nav: 'nav-operations', tenant: true },
  { pattern: /^\/ui\/service$/, render: renderService, nav: 'nav-service', tenant: false },
];

const main = document.getElementById('view');
const tenantInput = document.getElementById('tenant');
/** Stops what the current view keeps running (event streams, refresh timers). */
let leave = () => {};

async function show({ focus }) {
  leave();
  leave = () => {};
  const url = new URL(window.location.href);
  const tenant = url.searchParams.get('tenantId')?.toLowerCase() || null;
  tenantInput.value = tenant || '';
  document.getElementById('nav-operations').href = viewHref('/ui', tenant);
  document.getElementById('nav-service').href = viewHref('/ui/service', tenant);

  const view = VIEWS.find((v) => v.pattern.test(url.pathname));
  for (const id of ['nav-operations', 'nav-service']) {
    document.getElementById(id).toggleAttribute('aria-current', view?.nav === id);
  }
  main.replaceChildren();
  if (focus) main.focus();
  if (!view) {
    main.append(h('h1', {}, 'No such view'), h('p', {}, 'Go to ', h('a', { href: viewHref('/ui', tenant), 'data-nav': true }, 'the operations'), '.'));
    return;
  }
  if (tenant && !UUID.test(tenant)) {
    main.append(h('h1', {}, 'Not a tenant'), h('p', { role: 'alert' }, 'The tenantId in the address is not a UUID. Enter the tenant above.'));
    tenantInput.focus();
    return;
  }
  if (view.tenant && !tenant) {
    main.append(h('h1', {}, 'Choose a tenant'), h('p', { id: 'tenant-needed' }, 'Every operation belongs to one tenant. Enter its UUID above and press Open.'));
    tenantInput.focus();
    return;
  }
  const match = url.pathname.match(view.pattern);
  leave = (await view.render(main, { tenant, id: match[1] && decodeURIComponent(match[1]), query: url.searchParams })) || (() => {});
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-nav]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.href);
});

document.getElementById('tenant-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const tenant = tenantInput.value.trim().toLowerCase();
  const path = window.location.pathname.startsWith('/ui/service') ? '/ui/service' : '/ui';
  navigate(viewHref(path, tenant));
});

window.addEventListener('popstate', () => show({ focus: true }));
window.addEventListener('console:navigate', () => show({ focus: true }));
show({ focus: false });
