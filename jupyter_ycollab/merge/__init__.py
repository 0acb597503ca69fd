"""Three-way merge of a file's outside change into a live ``Doc`` (pure)."""
