// The per-item errors of a finished import, paged in the page: an import can have 100,000.

import { h } from './dom.js';

/** Errors shown per page. */
const PAGE = 50;

/** A section that shows `errors` (`[{index, error}]`) a page at a time; `show` replaces them. */
export function itemErrors() {
  let errors = [];
  let page = 0;
  const rows = h('tbody');
  const position = h('span', { id: 'item-errors-position', 'aria-live': 'polite' });
  const previous = h('button', { type: 'button', id: 'item-errors-previous' }, '‹ Previous');
  const next = h('button', { type: 'button', id: 'item-errors-next' }, 'Next ›');
  const table = h('table', { id: 'item-errors', class: 'item-errors' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Item index'), h('th', { scope: 'col' }, 'Error'))), rows);
  const empty = h('p', { class: 'none', id: 'item-errors-none' });
  const section = h('section', { 'aria-labelledby': 'item-errors-heading' },
    h('h2', { id: 'item-errors-heading' }, 'Per-item errors'), empty, table,
    h('div', { class: 'pager' }, previous, position, next));

  const draw = () => {
    const pages = Math.max(1, Math.ceil(errors.length / PAGE));
    page = Math.min(page, pages - 1);
    const first = page * PAGE;
    const shown = errors.slice(first, first + PAGE);
    rows.replaceChildren(...shown.map((e) => h('tr', {}, h('td', { class: 'index' }, String(e.index)), h('td', {}, e.error))));
    table.hidden = errors.length === 0;
    previous.disabled = page === 0;
    next.disabled = page >= pages - 1;
    previous.hidden = next.hidden = position.hidden = errors.length <= PAGE;
    position.textContent = `${first + 1}–${first + shown.length} of ${errors.length.toLocaleString()}`;
  };
  previous.addEventListener('click', () => { page -= 1; draw(); });
  next.addEventListener('click', () => { page += 1; draw(); });

  return {
    section,
    /** Shows the errors of `result` (null until the operation has ended). */
    show(result) {
      errors = result?.errors || [];
      empty.hidden = errors.length > 0;
      empty.textContent = result ? 'Every item was imported.' : 'Known when the operation has ended.';
      draw();
    },
  };
}
