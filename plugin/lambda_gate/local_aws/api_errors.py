"""Lambda-shaped API errors answered by the local AWS.

boto3 reads the error code of a REST-JSON service from the ``x-amzn-ErrorType`` header,
so an error answered this way raises the same ``ClientError`` code as on AWS.
"""

from __future__ import annotations

import json

from werkzeug.wrappers import Response

from ..errors import Error


class ApiFault(Error):
    """An AWS API error the local AWS answers with; never escapes the WSGI app."""

    def __init__(self, status: int, error_type: str, message: str,
                 extra: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.extra = extra or {}

    def response(self) -> Response:
        return error_response(self.status, self.error_type, self.message, self.extra)


def error_response(status: int, error_type: str, message: str,
                   extra: dict[str, str] | None = None) -> Response:
    """Build the HTTP answer Lambda gives for an API error (as opposed to a function error).

    ``extra`` fields join the body, such as a throttle's ``Reason``.
    """
    body = json.dumps({"Type": "User", "message": message, **(extra or {})})
    return Response(body, status=status, content_type="application/json",
                    headers={"x-amzn-ErrorType": error_type})


def json_response(status: int, payload: object) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")
