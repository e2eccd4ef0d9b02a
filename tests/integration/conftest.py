import pytest

from tests.contract import azurite as emulator


@pytest.fixture(scope="session")
def azurite():
    yield from emulator.for_session()
