"""Alembic environment: the URL comes from the caller's config (controller.migrate)."""

from alembic import context

import controller.alerts.models  # noqa: F401 - registers its tables on Base.metadata
import controller.province.models  # noqa: F401 - registers its tables on Base.metadata
import controller.relay_models  # noqa: F401 - registers its tables on Base.metadata
import controller.stream_models  # noqa: F401 - registers its tables on Base.metadata
import controller.update_models  # noqa: F401 - registers its tables on Base.metadata
import controller.web_models  # noqa: F401 - registers its tables on Base.metadata
from controller.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run migrations on the connection handed in, or on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    import sqlalchemy as sa

    engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


def _run(connection) -> None:
    # Batch mode lets ALTER TABLE migrations work on SQLite too.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
