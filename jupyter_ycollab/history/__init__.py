"""The crash-safe update log of a document: its records, its file, group commit, lineage."""
