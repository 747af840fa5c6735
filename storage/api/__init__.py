"""The API for other systems: tokens (``tokens.py``) and the LKS's households by key (``lks.py``)."""
