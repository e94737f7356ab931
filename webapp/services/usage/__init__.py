"""API usage: counted per call and sent to Redis (counting), folded into hourly rows of the
database (fold), read for the pages (queries).

The functions take the Redis connection (or the counter), the session and the current time as
arguments, so the same code serves requests, jobs, commands and tests.
"""
from webapp.services.usage.counting import (  # noqa: F401
    UsageCounter, count_api_call, count_introspection, hour_of)
from webapp.services.usage.fold import FoldReport, fold_usage  # noqa: F401
from webapp.services.usage.queries import (  # noqa: F401
    USAGE_FILTER_DAYS, DailyCalls, InstallationUsage, ScopeUsage, daily_calls, installation_usage,
    last_used, last_used_by_installation, not_used_in, parse_usage_filter, scopes_last_used,
    unused_scopes)
