// @azure/core-lro's createHttpPoller, driven against the intake with Node's fetch.
//
// Usage: node core_lro_poller.mjs BASE_URL TENANT (complete|cancel) ITEMS
// Starts a bulk import of ITEMS items, polls it to the end (in `cancel` mode it
// cancels the operation with DELETE first), and prints one JSON line: the
// poller's operationState.status, its result or the error it threw, and the
// requests it sent.
import { createHttpPoller } from "@azure/core-lro";

const [baseUrl, tenant, mode, items] = process.argv.slice(2);
const sent = [];

/** One request as the intake's tenant, as core-lro's OperationResponse. */
async function send(method, url, body) {
  const target = new URL(url, baseUrl);
  sent.push(`${method} ${target.pathname}`);
  const response = await fetch(target, {
    method,
    headers: { "x-tenant-id": tenant, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : undefined;
  if (response.status >= 400) {
    const error = new Error(`${method} ${target.pathname}: ${response.status} ${text}`);
    error.name = "RestError";
    throw error;
  }
  return {
    flatResponse: parsed,
    rawResponse: {
      statusCode: response.status,
      request: { method, url: target.href },
      headers: Object.fromEntries(response.headers),
      body: parsed,
    },
  };
}

let initial;
const poller = createHttpPoller({
  sendInitialRequest: async () => {
    const names = Array.from({ length: Number(items) }, (_, i) => ({ name: `lro-${i}` }));
    initial = await send("POST", "/api/sampleentities/bulk-import", { items: names });
    return initial;
  },
  sendPollRequest: (path) => send("GET", path),
});

await poller.submitted();
if (mode === "cancel") {
  await send("DELETE", initial.flatResponse.statusUrl);
}
let result = null;
let error = null;
try {
  result = await poller.pollUntilDone();
} catch (err) {
  error = { name: err.name, message: err.message };
}
console.log(JSON.stringify({
  status: poller.operationState?.status,
  done: poller.isDone,
  result,
  error,
  requests: sent,
}));
