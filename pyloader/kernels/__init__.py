"""Pure computation kernels (stdlib + numpy only) that also run inside PL/Python."""
