"""twilio-python side of the peer comparison (run by run.sh; not part of cargo test or CI).

Usage: python client.py BASE_URL N
One reused twilio.rest.Client, 200 warm-up fetches, then N timed sequential
`client.api.v2010.accounts(SID).balance.fetch()` calls; prints one JSON line.

How the SDK is pointed at the loopback server: every generated domain (here `client.api`,
class twilio.rest.api.ApiBase) is a twilio.base.domain.Domain whose public attribute
`base_url` (set in Domain.__init__, twilio/base/domain.py; ApiBase passes
"https://api.twilio.com") is what Domain.absolute_url() prefixes to every request path, so
assigning `client.api.base_url = BASE_URL` sends the real SDK request path (version, resource,
auth, headers, JSON decoding) to the loopback server. Edge/region rewriting
(ClientBase.get_hostname) is a no-op when neither is set, so TWILIO_EDGE/TWILIO_REGION are
cleared. The HTTP client is the SDK's default TwilioHttpClient: one requests.Session, whose
default adapter keeps the http:// connection alive.
"""

import json
import os
import sys
import time

import twilio
from twilio.rest import Client

SID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
TOKEN = "bench-token"
WARM_UP = 200


def main() -> None:
    base_url, n = sys.argv[1].rstrip("/"), int(sys.argv[2])
    os.environ.pop("TWILIO_EDGE", None)
    os.environ.pop("TWILIO_REGION", None)
    client = Client(SID, TOKEN)
    client.api.base_url = base_url
    balance = client.api.v2010.accounts(SID).balance

    def one() -> None:
        b = balance.fetch()
        assert b.currency == "USD", b.currency

    for _ in range(WARM_UP):
        one()
    started = time.perf_counter()
    for _ in range(n):
        one()
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "client": f"twilio-python {twilio.__version__}",
                "fetches": n,
                "seconds": round(seconds, 6),
                "per_sec": round(n / seconds, 1),
            },
            separators=(",", ":"),
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
