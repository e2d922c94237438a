"""Shared domain package of the serverless shop, shipped to every function as the SharedLayer.

Layering: functions/* (thin handlers) -> shop.<context>.service (domain logic) -> shop.<context>.repository
(the only code that talks to boto3). AWS error codes become shop.errors.DomainError subclasses in the
repositories; shop.api maps each DomainError to one HTTP status with a JSON body.

The contexts, in their dependency order (a context imports only the lines below its own, never a sibling on
its line; checked by import-linter, ``[tool.importlinter]`` in pyproject.toml):

    orderflow | storefront | returns          cross-context workflows and views
    checkout | payments | fulfillment | analytics | support | reviews
    cart | orders | procurement
    inventory
    catalog | promotions | notifications | auth
    root modules (models, money, aws, dynamo, config, errors, events, pricing, ...): import no context
"""
