"""Smoke tests of api-backend, run against the unaliased version just published."""


def test_health_reports_the_version_under_test(lambda_http, lambda_target):
    response = lambda_http.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": lambda_target.version}


def test_greet_answers_with_the_name(lambda_http):
    response = lambda_http.post("/greet", json={"name": "Ada"})

    assert response.status_code == 200
    assert response.json()["message"] == "Hello, Ada!"


def test_greet_without_a_name_is_a_client_error(lambda_http):
    response = lambda_http.post("/greet", json={})

    assert response.status_code == 400
