"""The pipeline: the one driver (a task's units → scores → fusion → the selection step → its
writer) with the QA and classification tasks, and the engine that streams large inputs in
resumable shards to an output folder (locally or on Ray); plus the datasets built from the same
units (the sentence-level dataset, learned-fusion labels)."""
