// The events timeline of one operation, as its event stream delivers them; a run of
// progress events is folded into one line that moves.

import { h } from './dom.js';

export function timeline() {
  const list = h('ol', { id: 'timeline', class: 'timeline' });
  const section = h('section', { 'aria-labelledby': 'timeline-heading' },
    h('h2', { id: 'timeline-heading' }, 'Events'), list);
  let folded = null;

  return {
    section,
    /** Adds one event payload (`{event, eventId, occurredAt, operation}`). */
    add(payload) {
      const { progress } = payload.operation;
      const summary = `${progress.percentage} % (${progress.current} of ${progress.total})`;
      if (payload.event === 'progress' && folded) {
        folded.count += 1;
        folded.item.querySelector('.count').textContent = ` ×${folded.count}`;
        folded.item.querySelector('.what').textContent = summary;
        folded.item.querySelector('time').replaceWith(when(payload.occurredAt));
        return;
      }
      const item = h('li', { 'data-event': payload.event },
        when(payload.occurredAt),
        h('span', { class: `event event-${payload.event}` }, payload.event),
        h('span', { class: 'count' }),
        h('span', { class: 'what' }, summary));
      list.append(item);
      folded = payload.event === 'progress' ? { item, count: 1 } : null;
    },
  };
}

function when(iso) {
  const shown = new Date(iso).toLocaleTimeString(undefined, {
    hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hour12: false,
  });
  return h('time', { datetime: iso, title: iso }, shown);
}
