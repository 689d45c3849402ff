"""Struct-of-arrays storage for agent state, so monthly processes run as numpy operations.

Each agent population (communities, organizations, social workers, ...) keeps its state in a
:class:`Table`: one numpy array per attribute, one row per agent ever created. Rows are never
reused, so a row index identifies an agent for the whole run; agents that leave keep their row with
``alive`` set to False. The Mesa agent objects (:mod:`sim.agents`) read and write their row
through :class:`Column` descriptors, so ``org.capacity`` and ``model.world.orgs.capacity[org.row]``
are the same number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


class Table:
    """Growable columns of equal length. ``table.name`` is a view of the rows in use.

    The views are kept as plain instance attributes and rebuilt whenever the row count changes
    (:meth:`append`), so reading a column is an ordinary attribute lookup: processes read
    columns about 25,000 times a run, and a ``__getattr__`` hook on every read cost about 5% of
    it. Assigning ``table.name = value`` writes into the column (broadcasting like numpy).
    """

    def __init__(self, schema: Mapping[str, Any], capacity: int = 64) -> None:
        object.__setattr__(self, "_schema", dict(schema))
        object.__setattr__(self, "_data", {k: np.zeros(capacity, dt) for k, dt in schema.items()})
        object.__setattr__(self, "n", 0)
        self._refresh_views()

    def _refresh_views(self) -> None:
        """Point each column attribute at the rows in use of its (possibly new) array."""
        n, views = self.n, self.__dict__
        for k, arr in self._data.items():
            views[k] = arr[:n]

    def __getattr__(self, name: str) -> np.ndarray:
        # Only reached for names that are not columns (columns are instance attributes).
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._data:
            self.__dict__[name][...] = value
        else:
            raise AttributeError(f"{name} is not a column (columns: {', '.join(self._data)})")

    def __getstate__(self) -> dict[str, Any]:
        # Views are not pickled: a copied table must write into its own arrays.
        return {"_schema": self._schema, "_data": self._data, "n": self.n}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._refresh_views()

    def __len__(self) -> int:
        return self.n

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._schema)

    def append(self, count: int, **values: Any) -> np.ndarray:
        """Add ``count`` rows (columns not given are zero) and return their row indices."""
        unknown = set(values) - set(self._schema)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        start = self.n
        need = start + count
        size = len(next(iter(self._data.values())))
        if need > size:
            grown = max(need, 2 * size)
            for k, arr in self._data.items():
                new = np.zeros(grown, arr.dtype)
                new[:start] = arr[:start]
                self._data[k] = new
        for k, v in values.items():
            self._data[k][start:need] = v
        object.__setattr__(self, "n", need)
        self._refresh_views()
        return np.arange(start, need)


class Column:
    """Descriptor exposing one row of a world table as an agent attribute.

    The agent has ``row`` and ``model``; the table is ``agent.model.world.<table>``.
    """

    def __init__(self, table: str, doc: str = "") -> None:
        self.table = table
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, agent: Any, owner: type | None = None) -> Any:
        if agent is None:
            return self
        return getattr(agent.model.world, self.table)._data[self.name][agent.row].item()

    def __set__(self, agent: Any, value: Any) -> None:
        getattr(agent.model.world, self.table)._data[self.name][agent.row] = value
