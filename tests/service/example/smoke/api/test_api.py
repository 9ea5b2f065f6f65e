"""Smoke tests of the service's HTTP API, against its own new version."""


def test_health_reports_the_version_under_test(lambda_http, lambda_target):
    response = lambda_http.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": lambda_target.version}


def test_greet_uses_the_shared_greeting(lambda_http):
    response = lambda_http.get("/greet", params={"name": "Ada"})

    assert response.status_code == 200
    assert response.json()["message"].endswith(", Ada!")
