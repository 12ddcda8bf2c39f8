"""The per-graph task memo the engine's derived-data caches share."""

from sim.util.taskmemo import TaskMemo


def test_use_keeps_the_entries_of_the_same_graph_and_empties_for_another():
    m = TaskMemo()
    g1, g2, task = object(), object(), object()
    assert m.use(g1) is True
    assert m.keep(task, (task, 1)) == (task, 1)
    assert m.use(g1) is False and m[id(task)] == (task, 1)
    assert m.use(g2) is True and len(m) == 0 and m.graph is g2


def test_keep_empties_the_memo_at_its_bound():
    m = TaskMemo()
    tasks = [object() for _ in range(200_000)]
    for t in tasks:
        m.keep(t, (t,))
    assert len(m) == 200_000
    last = object()
    m.keep(last, (last,))
    assert len(m) == 1 and m[id(last)] == (last,)
