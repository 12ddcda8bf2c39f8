"""Names and indices of a core's lanes, pipes and critical-path categories.

A lane is one core of a cluster as a block sees it (``aic``, ``aiv0``, ``aiv1``); each lane has the
seven pipes of ``PIPES``; ``CATS`` are the categories a lane's critical path (ns) is attributed to.
The cost model indexes them by position (``P_*`` pipes, ``C_*`` categories).
"""

from __future__ import annotations

PIPES = ("MTE2", "MTE1", "CUBE", "VECTOR", "FIXPIPE", "MTE3", "SCALAR")
P_MTE2, P_MTE1, P_CUBE, P_VEC, P_FIX, P_MTE3, P_SCAL = range(7)
PIPE_IDX = {p: i for i, p in enumerate(PIPES)}
LANES = ("aic", "aiv0", "aiv1")
LANE_IDX = {name: i for i, name in enumerate(LANES)}

CATS = ("vector", "cube", "mte2", "mte1", "mte3", "fixpipe", "scalar", "issue_sync", "l2_hit_latency",
        "l2_miss_latency", "handoff_wait", "prologue", "cold_core")
(C_VEC, C_CUBE, C_MTE2, C_MTE1, C_MTE3, C_FIX, C_SCAL, C_SYNC, C_HIT, C_MISS, C_HAND, C_PRO, C_COLD) = range(13)
PIPE_CAT = (C_MTE2, C_MTE1, C_CUBE, C_VEC, C_FIX, C_MTE3, C_SCAL)  # category of each pipe's own time
