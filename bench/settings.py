"""Settings for benchmark runs: production settings plus the reference views in bench/views.py."""

from alliance.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
