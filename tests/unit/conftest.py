import pytest

from shared.bootstrap import bootstrap
from shared.settings import Settings


@pytest.fixture
def container(tmp_path):
    return bootstrap(Settings(tmp_path / "data", retry_backoff_s=0.01))
