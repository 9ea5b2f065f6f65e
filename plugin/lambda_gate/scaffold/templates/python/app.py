"""@FUNCTION@: an API Gateway (HTTP API) proxy handler; replace it with your own."""

import json
import os


def handler(event, context):
    path = event.get("rawPath", "/")
    if path == "/health":
        body = {"status": "ok", "version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")}
        return {"statusCode": 200, "headers": {"content-type": "application/json"},
                "body": json.dumps(body)}
    return {"statusCode": 404, "body": json.dumps({"error": f"no route for {path}"})}
