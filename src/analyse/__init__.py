"""Conseillers numériques France Services : couverture territoriale par EPCI."""

__version__ = "0.1.0"
