"""Close the figures a test leaves open, so matplotlib does not accumulate them."""

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
