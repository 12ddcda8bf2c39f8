"""A memo of what the engine derives from a recorded graph's tasks, kept across runs on that graph."""

from __future__ import annotations

from typing import Any


class TaskMemo(dict):
    """``id(task) -> entry`` whose first item is the task itself (a hit is checked with ``entry[0] is
    task``). It holds one graph's tasks: :meth:`use` empties it when a run uses another graph. A
    recorded task is not changed afterwards, so an entry stays valid while the graph is in use."""

    __slots__ = ("graph",)

    def __init__(self) -> None:
        super().__init__()
        self.graph: object = None

    def use(self, graph: object) -> bool:
        """Hold ``graph``'s tasks from now on; True when the memo was emptied for it."""
        if self.graph is graph:
            return False
        self.clear()
        self.graph = graph
        return True

    def keep(self, task: Any, entry: tuple[Any, ...]) -> tuple[Any, ...]:
        """Store ``entry`` for ``task`` (the memo is emptied first at 200 000 entries); returns it."""
        if len(self) >= 200_000:
            self.clear()
        self[id(task)] = entry
        return entry
