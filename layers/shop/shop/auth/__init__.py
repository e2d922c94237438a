"""Shopper identity with Cognito: registration, confirmation, login, token refresh."""
