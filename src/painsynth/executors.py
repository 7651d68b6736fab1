"""Where work units run: one name table, ``EXECUTORS``, the same for every stage that has units.

- ``local``: this process (one worker) or a spawn pool of processes on this machine;
- ``ray``: tasks on a Ray cluster (``pip install 'painsynth[ray]'``): ``auto`` joins the cluster this
  machine belongs to (``ray start`` ran here, or ``RAY_ADDRESS``), ``local`` starts a private one on
  this machine, ``ray://HOST:PORT`` is a Ray client address. A task whose worker or node dies is
  retried (``RETRIES`` times) elsewhere; a unit that fails by itself (a bad input) is not retried.

A unit is a pure function of its arguments (its spec and the seed): it writes its own outputs
(atomically) and returns a small record, so results do not depend on what ran it. ``map`` yields
(item, result or the exception it raised) as units finish; at most ``window`` units are in flight, so
the driver's memory stays flat however many units there are. ``shared`` values (large inputs every
unit reads, such as an experiment's features) travel once per process, or once into Ray's object
store, and each unit is called as ``function(item, *shared)``.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from urllib.parse import urlparse

RETRIES = 3  # times Ray runs a task again after its worker or node died
CONNECT_TIMEOUT = 5.0  # s: a Ray address that does not answer within this is refused


class ExecutorError(RuntimeError):
    """The work cannot be run there (Ray missing, an address that does not answer)."""


def _windowed(submit: Callable, items: list, collect: Callable, window: int) -> Iterator[tuple[object, object]]:
    """Keep up to ``window`` submitted; yield (item, result or exception) as each finishes."""
    pending: dict = {}
    queue = iter(items)
    for item in queue:
        pending[submit(item)] = item
        if len(pending) >= window:
            break
    while pending:
        for handle in collect(list(pending)):
            item = pending.pop(handle)
            try:
                yield item, handle.result() if isinstance(handle, Future) else _ray_result(handle)
            except Exception as exc:  # noqa: BLE001 - the unit's own failure, handed to the caller
                yield item, exc
            nxt = next(queue, None)
            if nxt is not None:
                pending[submit(nxt)] = nxt


_shared_in_process: tuple = ()  # a pool worker's copy of the executor's shared values


def _start_worker(shared: tuple, initializer: Callable | None, initargs: tuple) -> None:
    global _shared_in_process
    _shared_in_process = shared
    if initializer is not None:
        initializer(*initargs)


def _call_with_shared(function: Callable, item):
    return function(item, *_shared_in_process)


@dataclass
class LocalExecutor:
    """This process (``workers`` 1) or a spawn pool of ``workers`` processes."""

    workers: int = 1
    initializer: Callable | None = None
    initargs: tuple = ()
    shared: tuple = ()

    def map(self, function: Callable, items: Iterable) -> Iterator[tuple[object, object]]:
        items = list(items)
        if self.workers <= 1 or len(items) <= 1:
            for item in items:
                try:
                    yield item, function(item, *self.shared)
                except Exception as exc:  # noqa: BLE001 - recorded by the caller; the run goes on
                    yield item, exc
            return
        with ProcessPoolExecutor(min(self.workers, len(items)), mp_context=get_context("spawn"),
                                 initializer=_start_worker,
                                 initargs=(self.shared, self.initializer, self.initargs)) as pool:
            yield from _windowed(lambda item: pool.submit(_call_with_shared, function, item), items,
                                 lambda handles: wait(handles, return_when=FIRST_COMPLETED)[0],
                                 window=4 * self.workers)


def _ray_result(ref):
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:  # the unit's own exception, unwrapped
        cause = exc.cause if isinstance(exc.cause, Exception) else exc
        raise cause from None


def _check_answers(address: str) -> None:
    """ExecutorError within seconds when a ``ray://`` address does not answer (Ray's client would wait)."""
    parsed = urlparse(address)
    try:
        socket.create_connection((parsed.hostname, parsed.port or 10001), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ExecutorError(f"--ray {address}: nothing answers there ({exc.strerror or exc})") from None


def connect_ray(address: str) -> None:
    """Join (or, for ``local``, start) the Ray cluster at ``address``; ExecutorError in one line otherwise."""
    try:
        import ray
    except ImportError:
        raise ExecutorError("--ray needs Ray: pip install 'painsynth[ray]'") from None
    if ray.is_initialized():
        return
    if address.startswith("ray://"):
        _check_answers(address)
    quiet = os.environ.get("PAINSYNTH_VERBOSE") != "1"
    try:
        ray.init(address=address, include_dashboard=False,  # "local": always a new cluster here
                 log_to_driver=not quiet, logging_level=logging.ERROR if quiet else logging.INFO,
                 configure_logging=True)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ExecutorError(f"--ray {address}: cannot join a Ray cluster ({str(exc).splitlines()[0]})") from None


@dataclass
class RayExecutor:
    """Ray tasks on the cluster at ``address``; ``num_cpus`` / ``num_gpus`` per task."""

    address: str = "auto"
    num_cpus: float = 1
    num_gpus: float = 0
    window: int = 256
    shared: tuple = ()

    def map(self, function: Callable, items: Iterable) -> Iterator[tuple[object, object]]:
        import ray

        connect_ray(self.address)
        task = ray.remote(num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=RETRIES,
                          retry_exceptions=False)(function)
        shared = [ray.put(value) for value in self.shared]  # Ray hands each task the values, not the refs
        yield from _windowed(lambda item: task.remote(item, *shared), list(items),
                             lambda refs: ray.wait(refs, num_returns=1)[0], window=self.window)


EXECUTORS = {"local": LocalExecutor, "ray": RayExecutor}


def executor(ray: str | None, workers: int = 1, initializer: Callable | None = None, initargs: tuple = (),
             shared: tuple = (), num_gpus: float = 0) -> LocalExecutor | RayExecutor:
    """The executor a command's ``--ray`` / ``--workers`` ask for; ``num_gpus`` is each Ray task's share
    of a GPU (Ray places the task on a node that has it)."""
    if ray:
        return EXECUTORS["ray"](address=ray, shared=shared, num_gpus=num_gpus)
    return EXECUTORS["local"](workers=workers, initializer=initializer, initargs=initargs, shared=shared)
