"""Settings for benchmark runs: production settings plus the reference views in bench/views.py."""

from alliance.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The limit's counting stays in the measured path (one cache round trip a request), set high
# enough that the load itself is never refused.
API_RATE_LIMIT_PER_MINUTE = 10_000_000
