"""masterfile: the Python side (loader, fake ERP, command line)."""
