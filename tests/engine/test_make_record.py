"""Run records built without the validation pass (:func:`sim.engine.recmem.make_record`) are the
records validation builds: same values and types, same field order, same JSON."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sim.engine.recmem import make_record
from sim.ir.records import PhaseRecord, SubmitRecord, SubtaskRecord

num = st.one_of(st.integers(-5, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=64))


def _same(a: object, b: object) -> None:
    assert type(a) is type(b)
    assert list(a.__dict__) == list(b.__dict__)
    assert [type(v) for v in a.__dict__.values()] == [type(v) for v in b.__dict__.values()]
    assert a == b and a.model_dump_json() == b.model_dump_json()


@settings(max_examples=60, deadline=None)
@given(num, num, st.lists(st.integers(0, 9), min_size=3, max_size=3), st.booleans())
def test_phase_records_match_validation(start: float, end: float, depths: list[int], extra: bool) -> None:
    kw = dict(thread=1, kind="complete", start=start, end=end, loop_iter=7, tasks_processed=2)
    if extra:
        kw.update(pop_hit=1, local_at_start=depths, shared_at_end=list(depths))
    rec = make_record(PhaseRecord, **kw)
    _same(rec, PhaseRecord(**kw))
    if extra:
        assert rec.local_at_start is not depths  # a fresh container, as validation makes


@settings(max_examples=40, deadline=None)
@given(num, st.dictionaries(st.sampled_from(["VECTOR", "MTE2"]), num), st.lists(st.tuples(num, num), max_size=2))
def test_subtask_and_submit_records_match_validation(t: float, busy: dict, barriers: list) -> None:
    kw = dict(task=1, task_id=2, func="f", func_id=0, block=0, lane="aiv0", core_id=3, reg_task_id=1, thread=0,
              dispatch=t, receive=t, start=t, end=t, finish=t, pipe_busy=busy, breakdown={"x": 1.0},
              barriers=barriers)
    _same(make_record(SubtaskRecord, **kw), SubtaskRecord(**kw))
    _same(make_record(SubmitRecord, submit_idx=0, task=0, task_id=5, start=t, end=t),
          SubmitRecord(submit_idx=0, task=0, task_id=5, start=t, end=t))


def test_bad_values_still_fail_validation() -> None:
    with pytest.raises(ValidationError):
        make_record(PhaseRecord, thread=1, kind="x", start=0.0, end=1.0, loop_iter=0, tasks_processed=0, bogus=1)
    with pytest.raises(ValidationError):
        make_record(SubtaskRecord, task=1, task_id=2, func="f", func_id=0, block=0, lane="npu", core_id=3,
                    reg_task_id=1, thread=0, dispatch=0.0, receive=0.0, start=0.0, end=0.0, finish=0.0)
