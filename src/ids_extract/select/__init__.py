"""The task-agnostic selection core: segment a text into units, rank them (fusion of scorers'
scores), keep the best at each level, join what is kept and move offsets through it.

Nothing here knows a data format or loads a model: QA (:mod:`ids_extract.squad`) and
classification build :class:`~.units.Units` and hand them in.
"""
