"""Collections: the officer's servicing workbench (worklist, contact log, promises to pay, hardship
plans). ``operations`` is the only module that writes."""
