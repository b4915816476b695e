"""Shared test settings."""

from hypothesis import settings

# The machines that run the suite are shared and noisy: time limits per example would
# make property tests flaky without testing anything about correctness.
settings.register_profile("sklilaw", deadline=None)
settings.load_profile("sklilaw")
