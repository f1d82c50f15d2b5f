"""Types shared by lambda_server.py and the handler modules it runs.

They live in their own module so that handlers can import them without importing the
server (and the server without importing a particular handlers module).
"""


class RawPayload(bytes):
    """A handler result the server sends as the response payload byte for byte, without
    serializing it to JSON (to test what a gateway does with a function's garbage output)."""


class Throttle(Exception):
    """Raised by a handler to make the server answer as a throttled Lambda does:
    429 TooManyRequestsException, Reason ReservedFunctionConcurrentInvocationLimitExceeded."""
