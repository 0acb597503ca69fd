"""One file <-> one room ``Doc``: load it, save it, watch the file, merge outside changes in."""
