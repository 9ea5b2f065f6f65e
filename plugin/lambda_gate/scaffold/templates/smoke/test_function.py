"""Smoke tests of @FUNCTION@, run against the numbered version a deploy just published.

They reach that version by its qualified ARN, never through an alias, so what they test
is exactly what the alias will point at. Add the checks that tell you it works.
"""


def test_health_answers_from_the_version_under_test(lambda_http, lambda_target):
    response = lambda_http.get("/health")  # an API Gateway (HTTP API) proxy event

    assert response.status_code == 200
    assert response.json()["version"] == lambda_target.version
