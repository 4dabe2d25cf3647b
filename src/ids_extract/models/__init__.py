"""Model families, each with its own save/load: where weights come from (:mod:`.hub`), how they
run (:mod:`.runtime`, :mod:`.onnx`), QA readers (:mod:`.qa`) and the DPR dual encoder
(:mod:`.dpr`)."""
