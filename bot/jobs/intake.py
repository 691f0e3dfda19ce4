"""Fast acknowledgement of chat webhooks: de-duplicate message ids and durably queue, in one go.

With Redis, :class:`RedisIntake` does it in ONE round trip: a Lua script (one per job function,
run by ``EVALSHA``; loaded with ``SCRIPT LOAD`` when Redis answers ``NOSCRIPT``, i.e. the first
time after Redis starts) sets each message id's de-duplication key with
``SET NX EX`` to a fresh job id and, if any id was new (or the webhook carries statuses), writes
the RQ job hash and pushes its id onto the queue, exactly as ``rq.Queue.enqueue_job`` would (job
hash with status ``queued``, queue registered in ``rq:queues``, id ``RPUSH``-ed), so an ordinary
RQ worker runs it. The hash is ``rq.job.Job.create(...).to_dict()``: built by rq once per job
function, its unchanging fields are written into the script itself, and only the three that
differ per job (``data``, the pickled call, and the two timestamps) travel with each call.
Since the job is written before Redis knows which ids are new, the job processes only the ids
whose key holds its own job id (:meth:`RedisIntake.owned`). The call goes through
``redis.asyncio`` (with the hiredis parser); a failure raises, and the route answers 503 so the
provider delivers again.

Without Redis (embedded mode, and tests), :class:`QueueIntake` asks the session store
(``first_time``) and hands the new ids to the job queue directly.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
import zlib
from collections.abc import Sequence
from typing import Any, Protocol

from bot.aredis import LoopClient, evalsha
from bot.jobs.queue import Job, JobQueue, Retry
from bot.sessions import SessionStore

_logger = logging.getLogger(__name__)

DEDUPE_TTL = 7 * 86_400
"""Meta retries an unacknowledged webhook for up to 7 days; the message log's unique id covers later."""
JOB_TIMEOUT = 300
FAILURE_TTL = 7 * 86_400
RETRY = Retry(max=3, intervals=(10, 60, 300))
"""A job that fails (database down...) runs again; messages it already recorded are skipped then."""
_PER_JOB = ("data", "created_at", "enqueued_at")

_ACCEPT = """
-- KEYS[1] queue, KEYS[2] job hash, KEYS[3] rq:queues, KEYS[4..] de-duplication keys
-- ARGV[1] job id, ARGV[2] de-duplication TTL, ARGV[3] "1" to queue even if no id is new,
-- ARGV[4] the job's data, ARGV[5] its creation and enqueue time
local new = 0
for i = 4, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[1], 'NX', 'EX', ARGV[2]) then new = new + 1 end
end
if new > 0 or ARGV[3] == '1' then
  redis.call('HSET', KEYS[2], 'data', ARGV[4], 'created_at', ARGV[5], 'enqueued_at', ARGV[5]%s)
  redis.call('SADD', KEYS[3], KEYS[1])
  redis.call('RPUSH', KEYS[1], ARGV[1])
end
return new
"""


class Intake(Protocol):
    async def accept(self, namespace: str, ids: Sequence[str], func: Job, *args: Any, always: bool = False) -> bool:
        """Queue ``func(*args, job_id, new_ids)`` unless every id was seen before; True when queued.

        ``always`` queues even when no id is new (a webhook that also carries statuses).
        ``new_ids`` is None when the job must ask :meth:`owned` which ids are its own.
        """
        ...

    def owned(self, namespace: str, ids: Sequence[str], job_id: str) -> set[str]:
        """The ``ids`` whose de-duplication key was won by ``job_id`` (called by the job)."""
        ...

    async def aclose(self) -> None: ...


class QueueIntake:
    """Embedded mode: the session store de-duplicates, the job queue gets the new ids."""

    def __init__(self, store: SessionStore, queue: JobQueue) -> None:
        self.store = store
        self.queue = queue

    async def accept(self, namespace: str, ids: Sequence[str], func: Job, *args: Any, always: bool = False) -> bool:
        new = [i for i in dict.fromkeys(ids) if self.store.first_time(f"inbound:{namespace}", i, DEDUPE_TTL)]
        if not new and not always:
            return False
        self.queue.enqueue(func, *args, "", new, retry=RETRY)
        return True

    def owned(self, namespace: str, ids: Sequence[str], job_id: str) -> set[str]:
        return set()  # the job always receives its ids

    async def aclose(self) -> None:
        return None


class RedisIntake:
    """Production: one ``EVALSHA`` per webhook (see the module docstring)."""

    def __init__(self, redis_client: Any, queue_name: str, *, url: str | None = None, prefix: str = "jumbe") -> None:
        """
        Args:
            redis_client: the synchronous client (rq builds job hashes with it; jobs read keys with it).
            queue_name: the RQ queue the jobs go to.
            url: the Redis URL for the request path's asyncio client; None copies the sync client's address.
            prefix: of the de-duplication keys.
        """
        from rq import Queue
        from rq.job import Job as RqJob

        self.sync = redis_client
        self.aio = LoopClient(redis_client, url)
        self.queue_name = queue_name
        self.queue_key = Queue.redis_queue_namespace_prefix + queue_name
        self.queues_key = Queue.redis_queues_keys
        self.job_prefix = RqJob.redis_job_namespace_prefix
        self.prefix = prefix
        self._templates: dict[Job, JobTemplate] = {}

    def key(self, namespace: str, ident: str) -> str:
        return f"{self.prefix}:inbound:{namespace}:{ident}"

    async def accept(self, namespace: str, ids: Sequence[str], func: Job, *args: Any, always: bool = False) -> bool:
        job_id = uuid.uuid4().hex
        template = self.template(func)
        data, stamp = template.per_job((*args, job_id, None))
        keys = [self.queue_key, self.job_prefix + job_id, self.queues_key, *(self.key(namespace, i) for i in ids)]
        args = (job_id, DEDUPE_TTL, int(always), data, stamp)
        new = await evalsha(self.aio.get(), template, keys, args)
        return bool(new) or always

    def template(self, func: Job) -> JobTemplate:
        template = self._templates.get(func)
        if template is None:
            template = self._templates[func] = JobTemplate(func, self.queue_name, self.sync)
        return template

    def owned(self, namespace: str, ids: Sequence[str], job_id: str) -> set[str]:
        if not ids:
            return set()
        values = self.sync.mget([self.key(namespace, i) for i in ids])
        return {i for i, value in zip(ids, values, strict=True) if value is not None and value.decode() == job_id}

    async def aclose(self) -> None:
        await self.aio.aclose()


class JobTemplate:
    """The RQ job hash of one job function, from ``Job.create(...).to_dict()``, split in two.

    The fields every job of the function shares (origin, timeout, status ``queued``, the
    description...) become literals of its Lua script; :meth:`per_job` makes the three that
    differ. Building the whole hash with rq costs ~75 us a call; this costs the pickling.
    """

    def __init__(self, func: Job, queue_name: str, connection: Any) -> None:
        from rq.job import Job as RqJob
        from rq.job import JobStatus
        from rq.job import Retry as RqRetry
        from rq.serializers import DefaultSerializer

        job = RqJob.create(
            func,
            connection=connection,
            id="template",
            origin=queue_name,
            timeout=JOB_TIMEOUT,
            failure_ttl=FAILURE_TTL,
            status=JobStatus.QUEUED,
            # The default description is the call with its arguments: phone numbers and texts.
            description=f"{func.__module__}.{func.__qualname__}",
            retry=RqRetry(max=RETRY.max, interval=list(RETRY.intervals)),
        )
        job.enqueued_at = job.created_at
        self.shared = {
            name: _as_redis_text(value)
            for name, value in job.to_dict().items()
            if value is not None and name not in _PER_JOB
        }
        self.func_name = job.func_name
        self._dumps = DefaultSerializer.dumps
        literals = "".join(f", {_lua(name)}, {_lua(value)}" for name, value in self.shared.items())
        self.script = _ACCEPT % literals
        self.sha = hashlib.sha1(self.script.encode()).hexdigest()

    def per_job(self, args: tuple[Any, ...]) -> tuple[bytes, str]:
        """``data`` (the call, pickled and compressed as rq stores it) and the timestamp."""
        from rq.utils import now, utcformat

        return zlib.compress(self._dumps((self.func_name, None, args, {}))), utcformat(now())


def _as_redis_text(value: object) -> str:
    """What redis-py would write for ``value`` (a ``str`` enum writes its value, not its name)."""
    if isinstance(value, str):
        return value.encode().decode()
    if isinstance(value, bytes):
        return value.decode()
    return repr(value)


def _lua(text: str) -> str:
    """A Lua string literal of ``text``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'
