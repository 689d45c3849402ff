"""The need-type module: one order, used by every need-indexed array."""

import numpy as np
import pytest

from sim.needs import (
    N_NEEDS,
    NEED_INDEX,
    NEED_TYPES,
    SERVICE_FIT,
    SOURCES,
    fit_matrix,
    households_with_need,
    need_hours,
    need_index,
    serve,
)


def test_need_types_are_the_five_of_issue_10_in_order() -> None:
    assert NEED_TYPES == ("elderly", "children", "disabled", "low_income", "migrants")
    assert N_NEEDS == 5
    assert [need_index(n) for n in NEED_TYPES] == list(range(N_NEEDS))
    assert {n: i for i, n in enumerate(NEED_TYPES)} == NEED_INDEX


def test_unknown_need_type_names_the_allowed_ones() -> None:
    with pytest.raises(KeyError, match="allowed: elderly, children"):
        need_index("students")


def test_households_with_a_person_level_need_grow_with_household_size() -> None:
    # Elderly share 0.2 of persons: households of 1 have it with 0.2, of 4 with 1 - 0.8**4.
    shares = np.array([[0.2, 0.1, 0.0, 0.05, 0.3]] * 2)
    hh = households_with_need(shares, np.array([100.0, 100.0]), np.array([100.0, 400.0]))
    assert hh[:, 0].tolist() == pytest.approx([20.0, 100 * (1 - 0.8**4)])
    assert hh[:, 1].tolist() == pytest.approx([10.0, 100 * (1 - 0.9**4)])
    # Low income and migrants are shares of households, whatever their size.
    np.testing.assert_allclose(hh[:, 3:], [[5.0, 30.0], [5.0, 30.0]])
    # need_hours weighs households by need type, hours per resident-equivalent and need index.
    weights = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    need = need_hours(
        shares,
        np.array([100.0, 100.0]),
        np.array([100.0, 400.0]),
        np.array([1.0, 2.0]),
        weights,
        0.5,
    )
    np.testing.assert_allclose(need, hh * weights * 0.5 * np.array([[1.0], [2.0]]))


def test_fit_spread_scales_the_profile_between_even_and_full() -> None:
    full = fit_matrix(1.0)
    np.testing.assert_allclose(full, [SERVICE_FIT[s] for s in SOURCES])
    assert (fit_matrix(0.0) == 1).all()
    np.testing.assert_allclose(fit_matrix(0.5), (1 + full) / 2)


def test_serve_spreads_hours_by_need_times_fit_and_caps_at_need() -> None:
    # One community, two needs (elderly 100, migrants 50); 300 staff hours and 30 agency hours
    # at qualities 0.5 and 1.
    fit = fit_matrix(1.0)
    need = np.zeros((1, N_NEEDS))
    need[0, [0, 4]] = [100.0, 50.0]
    hours = np.array([[300.0, 0.0, 30.0, 0.0]])
    met, quality = serve(need, hours, hours * np.array([0.5, 0, 1.0, 0]), fit)
    eff = np.zeros(N_NEEDS)
    qeff = np.zeros(N_NEEDS)
    for s, q in ((0, 0.5), (2, 1.0)):
        total = need[0] @ fit[s]
        eff += hours[0, s] * need[0] * fit[s] ** 2 / total
        qeff += q * hours[0, s] * need[0] * fit[s] ** 2 / total
    assert met[0].tolist() == pytest.approx(np.minimum(eff, need[0]).tolist())
    assert met[0, 0] == 100 and met[0, 4] == pytest.approx(38.0) and met[0, 1] == 0
    scale = np.divide(met[0], eff, out=np.zeros(N_NEEDS), where=eff > 0)
    assert quality[0].tolist() == pytest.approx((qeff * scale).tolist())
    # No need, no hours met; no hours, nothing met.
    nothing, _ = serve(np.zeros((1, N_NEEDS)), hours, hours, fit)
    assert (nothing == 0).all()
    assert (serve(need, 0 * hours, 0 * hours, fit)[0] == 0).all()
