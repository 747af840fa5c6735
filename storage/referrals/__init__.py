"""Referrals to other offices: the transactional services (``service.py``) over ``marketplace.referrals``."""
