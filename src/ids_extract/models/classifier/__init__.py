"""Text classifiers: how a text is read (:mod:`.features`), the folder format (:mod:`.folder`),
training (:mod:`.train`) and prediction (:mod:`.predict`)."""
