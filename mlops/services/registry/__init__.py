"""Where models live and who did what: storage, the version registry, the audit trail."""
