"""The stages: one small ``kserve.Model`` subclass per stage kind (``base``, ``vision``,
``documents``) and the registry of stage kinds (``registry``)."""
