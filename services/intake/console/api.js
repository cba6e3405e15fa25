// The API as the console speaks it: JSON, the tenant in X-Tenant-Id, and every refusal
// an RFC 9457 problem, thrown as a Problem for the view to show.

/** An answer that is an RFC 9457 problem (or no answer at all). */
export class Problem extends Error {
  constructor(problem) {
    super(problem.detail || problem.title || 'The request failed.');
    this.problem = problem;
  }
}

/**
 * Calls the API and answers `{status, body}`; throws a Problem when the service refuses
 * or does not answer. `tenant` is sent as X-Tenant-Id.
 */
export async function api(path, { method = 'GET', tenant } = {}) {
  const headers = { Accept: 'application/json' };
  if (tenant) headers['X-Tenant-Id'] = tenant;
  let response;
  try {
    response = await fetch(path, { method, headers, cache: 'no-store' });
  } catch (error) {
    throw new Problem({ title: 'No answer', status: 0, detail: `The service did not answer (${error.message}).` });
  }
  const type = response.headers.get('content-type') || '';
  const body = type.includes('json') ? await response.json().catch(() => null) : null;
  if (type.startsWith('application/problem+json') || (!response.ok && body === null)) {
    throw new Problem(body || { title: response.statusText, status: response.status });
  }
  return { status: response.status, body };
}

/** An EventSource on one of the API's event streams, for `tenant` (which it cannot send as a header). */
export function eventSource(path, tenant) {
  const separator = path.includes('?') ? '&' : '?';
  return new EventSource(`${path}${separator}tenantId=${encodeURIComponent(tenant)}`);
}

/** The event names of the API's event streams (contract §7). */
export const EVENTS = ['accepted', 'running', 'progress', 'completed', 'failed', 'cancelled', 'compensated'];

/** The statuses after which an operation never changes again. */
export const TERMINAL = ['completed', 'failed', 'cancelled'];
