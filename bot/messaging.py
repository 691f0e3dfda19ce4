"""Wiring of the chat channels into a container: provider clients, the notifier, the webhook intake."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bootstrap import Container


def install(container: Container) -> None:
    """Put ``provider_clients``, ``notifier`` and ``intake`` into the container's services."""
    from bot.jobs.intake import QueueIntake, RedisIntake
    from bot.jobs.queue import RqQueue
    from bot.notifier import Notifier
    from bot.providers import ProviderClients

    services = container.services
    services.setdefault("provider_clients", ProviderClients(container.settings))
    services["notifier"] = Notifier(container.uow, container.queue)
    if isinstance(container.queue, RqQueue) and container.redis is not None:
        name = container.queue.queue.name
        services["intake"] = RedisIntake(container.redis, name, url=container.settings.redis_url)
    else:
        services["intake"] = QueueIntake(container.store, container.queue)
