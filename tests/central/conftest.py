import pytest

from appliance.dev.local_postgres import LocalPostgres
from central.database import migrate


@pytest.fixture(scope="package")
def postgres():
    """A private PostgreSQL for the central's tests, its schema up to date; each test empties what it uses."""
    with LocalPostgres() as db:
        migrate(db.dsn)
        yield db
