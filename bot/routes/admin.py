"""The admin REST API mounted at /admin, wired to the container's database, clock, Redis and queue."""

from __future__ import annotations

from starlette.routing import Mount

from admin_api import create_admin
from admin_api.operations import Jobs
from admin_api.ratelimit import MemoryBuckets, RateLimiter, RedisBuckets
from bot.bootstrap import Container


def limiter(container: Container) -> RateLimiter:
    """Shared buckets in Redis when there is one (many web processes), else in this process."""
    settings = container.settings
    if container.redis is not None:
        return RedisBuckets(container.redis, settings.admin_rate_per_second, settings.admin_rate_burst)
    return MemoryBuckets(settings.admin_rate_per_second, settings.admin_rate_burst)


def jobs(container: Container) -> Jobs:
    """Hands the admin API's follow-up work to the queue (jobs looked up when queued, not imported early)."""
    from bot.jobs import payments, reminders

    def query(payment_id: int) -> None:
        container.queue.enqueue(payments.query_payment, payment_id)

    def dispatch() -> None:
        container.queue.enqueue(reminders.dispatch_reminders)

    return Jobs(query_payment=query, dispatch_outbound=dispatch)


def mount(container: Container) -> Mount:
    admin = create_admin(container.uow, container.clock, limiter=limiter(container), jobs=jobs(container))
    return Mount("/admin", app=admin)
