"""azure-core's LROPoller with LROBasePolling, driven against the intake.

Usage: azure_poller.py BASE_URL TENANT (complete|cancel) ITEMS
Starts a bulk import of ITEMS items, polls it to the end (in `cancel` mode it
cancels the operation with DELETE first), and prints one JSON line: the poller's
status, its result (the final document) or the error it raised, and the
requests the pipeline sent.
"""

import json
import sys

from azure.core import PipelineClient
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import HeadersPolicy, RequestIdPolicy, SansIOHTTPPolicy
from azure.core.polling import LROPoller
from azure.core.polling.base_polling import LROBasePolling
from azure.core.rest import HttpRequest


class Recorder(SansIOHTTPPolicy):
    """Notes each request the pipeline sends, as "METHOD /path"."""

    def __init__(self):
        self.sent = []

    def on_request(self, request):
        url = request.http_request.url
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        self.sent.append(f"{request.http_request.method} {path}")


def main(base_url, tenant, mode, items):
    recorder = Recorder()
    # As a generated client's pipeline has them: LROBasePolling re-sends the
    # initial request's x-ms-client-request-id on every poll.
    client = PipelineClient(
        base_url,
        policies=[RequestIdPolicy(), HeadersPolicy({"X-Tenant-Id": tenant}), recorder],
    )
    body = {"items": [{"name": f"azure-{i}"} for i in range(items)]}
    initial = client.send_request(
        HttpRequest("POST", f"{base_url}/api/sampleentities/bulk-import", json=body),
        _return_pipeline_response=True,
    )
    initial.http_response.raise_for_status()
    poller = LROPoller(
        client,
        initial,
        lambda pipeline_response: pipeline_response.http_response.json(),
        LROBasePolling(timeout=1),
    )
    if mode == "cancel":
        status_url = initial.http_response.json()["statusUrl"]
        client.send_request(HttpRequest("DELETE", base_url + status_url)).raise_for_status()
    result, error = None, None
    try:
        result = poller.result()
    except HttpResponseError as err:
        error = {"type": type(err).__name__, "message": str(err)}
    print(json.dumps({
        "status": poller.status(),
        "done": poller.done(),
        "result": result,
        "error": error,
        "requests": recorder.sent,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
