"""The RQ worker class: every job runs inside the Flask app's context."""
from __future__ import annotations

from rq import Worker


class AppWorker(Worker):
    def __init__(self, *args, app, **kwargs):
        super().__init__(*args, **kwargs)
        self.flask_app = app

    def perform_job(self, job, queue):
        with self.flask_app.app_context():
            # A forked work horse must not share the parent's database connections.
            from webapp.extensions import db

            db.engine.dispose(close=False)
            try:
                return super().perform_job(job, queue)
            finally:
                db.session.remove()
