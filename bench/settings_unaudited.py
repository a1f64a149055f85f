"""Benchmark settings with audit recording switched off (see bench/unaudited)."""

from bench.settings import *  # noqa: F403
from bench.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.unaudited"]
