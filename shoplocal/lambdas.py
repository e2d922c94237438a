"""Run a function's handler in-process, as Lambda would, with that function's own environment.

Several functions each have an `app.py`, so every function's module is imported under its own name, and,
as on Lambda, each execution environment (a module instance) serves one invocation at a time.
The environment is installed with shop.config.function_environment (a context variable), never by
mutating os.environ, so concurrent invocations from the gateway and from Step Functions do not interfere.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from shop.config import function_environment

from shoplocal.deploy import FunctionSpec


@dataclass
class LambdaContext:
    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


class FunctionError(Exception):
    """A handler raised; carries the Lambda error shape."""

    def __init__(self, error_type: str, message: str, stack: list[str]):
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.error_message = message
        self.stack = stack

    def payload(self) -> dict[str, Any]:
        return {"errorType": self.error_type, "errorMessage": self.error_message, "stackTrace": self.stack}


class Invoker:
    def __init__(self, functions: dict[str, FunctionSpec], base_env: dict[str, str]):
        self.functions = functions
        self.base_env = dict(base_env)
        self._idle: dict[str, list[ModuleType]] = {}
        self._created: dict[str, int] = {}
        self._lock = threading.Lock()
        # Cold starts build their handler module one at a time: two Powertools Loggers of one service built at
        # the same moment on two threads can leave one without a formatter (that environment then fails every
        # request). On Lambda each environment is its own process, so this costs no realism.
        self._load_lock = threading.Lock()
        self.invocations: list[tuple[str, float]] = []  # (logical id, seconds) for benchmarks
        self.hooks: list[Callable[[str, dict[str, Any]], None]] = []  # fault injection in tests

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        env = dict(self.base_env)
        env.update({
            "AWS_LAMBDA_FUNCTION_NAME": spec.name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "LAMBDA_TASK_ROOT": str(spec.code_dir),
        })
        env.update(spec.environment)
        return env

    def _load(self, spec: FunctionSpec, instance: int) -> ModuleType:
        module_file = spec.handler.rpartition(".")[0]
        key = f"shoplocal_fn_{spec.logical_id}_{instance}"
        path = spec.code_dir / (module_file.replace(".", "/") + ".py")
        if not path.exists():
            raise FileNotFoundError(f"{spec.logical_id}: handler module {path} not found")
        for layer in spec.layer_dirs:
            if str(layer) not in sys.path:
                sys.path.append(str(layer))
        import_spec = importlib.util.spec_from_file_location(key, path)
        assert import_spec and import_spec.loader
        mod = importlib.util.module_from_spec(import_spec)
        import_spec.loader.exec_module(mod)
        return mod

    def _acquire(self, spec: FunctionSpec) -> tuple[ModuleType, bool]:
        """An idle execution environment of this function, or a new one (a cold start).

        Like Lambda, one environment serves one invocation at a time: handler modules keep per-request state
        (Powertools resolvers hold the current event), so concurrent invocations need separate instances.
        """
        with self._lock:
            idle = self._idle.setdefault(spec.logical_id, [])
            if idle:
                return idle.pop(), False
            self._created[spec.logical_id] = instance = self._created.get(spec.logical_id, 0) + 1
        with self._load_lock:
            return self._load(spec, instance), True

    def _release(self, spec: FunctionSpec, module: ModuleType) -> None:
        with self._lock:
            self._idle.setdefault(spec.logical_id, []).append(module)

    def cold_starts(self, logical_id: str) -> int:
        return self._created.get(logical_id, 0)

    def spec(self, logical_id_or_name: str) -> FunctionSpec:
        spec = self.functions.get(logical_id_or_name)
        if spec is None:
            for candidate in self.functions.values():
                if logical_id_or_name in (candidate.name, candidate.arn) or \
                        logical_id_or_name.startswith(candidate.arn + ":"):
                    spec = candidate
                    break
        if spec is None:
            raise KeyError(f"no function {logical_id_or_name} in the deployed template")
        return spec

    def invoke(self, logical_id_or_name: str, event: Any) -> Any:
        """Call the handler; exceptions propagate unchanged (callers decide how to surface them)."""
        spec = self.spec(logical_id_or_name)
        for hook in self.hooks:
            hook(spec.logical_id, event)
        module, _cold = self._acquire(spec)
        handler = getattr(module, spec.handler.rpartition(".")[2])
        request_id = str(uuid.uuid4())
        context = LambdaContext(
            function_name=spec.name, function_version="$LATEST", invoked_function_arn=spec.arn,
            memory_limit_in_mb=spec.memory, aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{spec.name}", log_stream_name=f"local/{request_id}",
            deadline_ms=int(time.time() * 1000) + spec.timeout * 1000,
        )
        started = time.perf_counter()
        try:
            with function_environment(self.environment(spec)):
                return handler(event, context)
        finally:
            self.invocations.append((spec.logical_id, time.perf_counter() - started))
            self._release(spec, module)

    def invoke_as_lambda(self, logical_id_or_name: str, event: Any) -> tuple[Any, FunctionError | None]:
        """Like Lambda's Invoke API: a raised exception becomes an error payload, not an exception."""
        try:
            return self.invoke(logical_id_or_name, event), None
        except Exception as exc:
            err = FunctionError(type(exc).__name__, str(exc), traceback.format_exception(exc))
            return None, err
