"""An EventSource client (httpx-sse) reading one operation's events.

Usage: sse_events.py BASE_URL TENANT OPERATION_ID
Reads GET /api/operations/{id}/events (tenant as ?tenantId=) to its end, then
reads the first k events again (k = half of them), disconnects, and reconnects
with Last-Event-ID = the k-th id to read the rest. Prints one JSON line.
"""

import json
import sys

import httpx
from httpx_sse import connect_sse


def read(client, url, tenant, last_event_id=None, stop_after=None):
    """The events of one connection: (id, SSE event name, data's event, data's status)."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events = []
    with connect_sse(client, "GET", url, params={"tenantId": tenant}, headers=headers) as source:
        source.response.raise_for_status()
        for sse in source.iter_sse():
            data = json.loads(sse.data)
            events.append({
                "id": sse.id,
                "event": sse.event,
                "dataEvent": data["event"],
                "operationId": data["operation"]["operationId"],
                "status": data["operation"]["status"],
                "result": data["operation"]["result"],
            })
            if stop_after is not None and len(events) == stop_after:
                break  # leaving the block disconnects
    return events


def main(base_url, tenant, operation):
    url = f"{base_url}/api/operations/{operation}/events"
    with httpx.Client(timeout=httpx.Timeout(30.0)) as client:
        full = read(client, url, tenant)
        k = max(1, len(full) // 2)
        first = read(client, url, tenant, stop_after=k)
        rest = read(client, url, tenant, last_event_id=first[-1]["id"])
    print(json.dumps({"full": full, "k": k, "first": first, "rest": rest}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
