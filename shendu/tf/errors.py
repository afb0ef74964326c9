"""tf.errors: TensorFlow's exception classes, each also a subclass of the Python exception it stands for, so that
`except ValueError` and `except tf.errors.InvalidArgumentError` both catch what shendu's `tf.debugging` raises."""

from __future__ import annotations

from typing import Any


class OpError(Exception):
    """The base of TensorFlow's errors: OpError(node_def, op, message); `message` and `op` as TensorFlow's."""

    def __init__(self, node_def: Any = None, op: Any = None, message: str = "", *args: Any) -> None:
        super().__init__(message)
        self.node_def, self.op, self.message = node_def, op, message

    def __str__(self) -> str:
        return self.message


class CancelledError(OpError): ...


class UnknownError(OpError): ...


class InvalidArgumentError(OpError, ValueError): ...


class DeadlineExceededError(OpError, TimeoutError): ...


class NotFoundError(OpError, LookupError): ...


class AlreadyExistsError(OpError): ...


class PermissionDeniedError(OpError, PermissionError): ...


class ResourceExhaustedError(OpError, MemoryError): ...


class FailedPreconditionError(OpError): ...


class AbortedError(OpError): ...


class OutOfRangeError(OpError, IndexError): ...


class UnimplementedError(OpError, NotImplementedError): ...


class InternalError(OpError): ...


class UnavailableError(OpError): ...


class DataLossError(OpError): ...


class UnauthenticatedError(OpError): ...
