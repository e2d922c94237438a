"""Shared domain package of the serverless shop, shipped to every function as the SharedLayer.

Layering: functions/* (thin handlers) -> shop.<context>.service (domain logic) -> shop.<context>.repository
(the only code that talks to boto3). AWS error codes become shop.errors.DomainError subclasses in the
repositories; shop.api maps each DomainError to one HTTP status with a JSON body.
"""
