def test_healthz_answers_without_login(app):
    assert app.test_client().get("/healthz").json == {"status": "ok"}


def test_readyz_reports_database_and_redis(app):
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["redis"] == "ok"


def test_readyz_names_redis_when_it_is_unreachable(app):
    from webapp import create_app

    broken = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "REDIS_URL": "redis://127.0.0.1:1/0", "TESTING": True})
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert "redis" in response.json["failing"]
    assert "database" not in response.json["failing"]
