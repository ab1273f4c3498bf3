"""Building a Region's rotation engine from its Config (used by smgrpc.app)."""

from __future__ import annotations

from smgrpc.config import Config, ConfigError
from smgrpc.core.ports import Clock
from smgrpc.core.rotation import BUILTIN_PASSWORD
from smgrpc.core.values import ValueUseCases
from smgrpc.crypto.tls import TlsFileError
from smgrpc.rotation.builtin import BuiltinPassword
from smgrpc.rotation.invokers import FunctionTls, GrpcInvoker, Invoker, Registry, read_function_tls
from smgrpc.rotation.runner import Runner, Transitions
from smgrpc.rotation.scheduler import RotationStore, Scheduler


def function_tls(config: Config) -> FunctionTls | None:
    """Read --rotation-ca/--rotation-cert/--rotation-key (blocking); errors as ConfigError."""
    try:
        return read_function_tls(config.rotation_ca, config.rotation_cert, config.rotation_key)
    except TlsFileError as exc:
        raise ConfigError(str(exc)) from None


def registry(config: Config, values: ValueUseCases, tls: FunctionTls | None) -> Registry:
    """Every --rotation-function (one channel each, not yet connected) and the built-ins."""
    invokers: dict[str, Invoker] = {BUILTIN_PASSWORD: BuiltinPassword(values)}
    for name, address in config.rotation_functions:
        invokers[name] = GrpcInvoker(name, address, tls)
    return Registry(invokers)


def scheduler(
    config: Config,
    store: RotationStore,
    transitions: Transitions,
    functions: Registry,
    clock: Clock,
) -> Scheduler:
    runner = Runner(
        transitions,
        store,
        functions,
        config.region,
        config.account,
        step_timeout=config.rotation_step_timeout,
        max_attempts=config.rotation_max_attempts,
    )
    return Scheduler(
        store,
        transitions,
        runner,
        clock,
        concurrency=config.rotation_concurrency,
        poll_interval=config.rotation_poll_interval,
    )
