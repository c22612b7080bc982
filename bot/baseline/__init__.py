"""Where the base's numbers come from: a rerun, a file, or the data branch's store."""
