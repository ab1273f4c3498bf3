"""The barrier: the only package that touches key material."""
