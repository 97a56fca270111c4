"""Browser adapters of the importers: an options form and a runner per kind, registered with the registry."""
