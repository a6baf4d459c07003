"""Hypothesis in CI (CI set): the same examples on every run of a commit, and
no health check failing a run because the machine is slow. Local runs keep
exploring new examples."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("CI"):
    settings.load_profile("ci")
