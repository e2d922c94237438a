"""Base of every HTTP answer's model (each context's ``contracts`` module builds on it).

An answer is validated against its route's return annotation before it leaves the function (Powertools
``enable_validation``), and a field the model does not declare is an error, not silently dropped: a service
whose answer drifts from its published schema fails its tests (a 500 ``internal_error``), never a storefront.
"""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict


class ResponseModel(BaseModel):
    """A JSON answer (or a part of one). Fields keep the names and shapes the API has always returned."""

    # the validator is built when first used, once per process: a function imports the answers of all its routes
    # (a task function the data of every step of its workflow) but an invocation uses one or two; building them
    # all at import was a large part of the cold start (issue 17)
    model_config = ConfigDict(extra="forbid", defer_build=True)


def absent(value: object) -> bool:
    """``Field(None, exclude_if=absent)``: a key the service sometimes leaves out stays out of the answer
    (declaring it optional must not make it appear as ``null`` where it never did)."""
    return value is None


class WorkflowData(ResponseModel):
    """JSON a state machine reads by JSONPath: an execution's input, what a task function returns, what a task
    token is resumed with. tests/unit/test_workflow_contracts.py checks every path in statemachines/*.asl.json
    against these models, so a renamed key fails a unit test instead of an execution."""

    @classmethod
    def emit(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` checked and returned as the JSON the state machine gets: the same keys (one the service left
        out stays out: ``exclude_if``), in the model's order, which is the order the services build them in."""
        return cls.model_validate(data).model_dump(mode="json")


def example(data: dict[str, Any]) -> ConfigDict:
    """``model_config`` giving a workflow model its example (its JSON Schema's ``examples``): the contract tests
    feed it through the handler that emits it and walk the state machines with the model."""
    return ConfigDict(json_schema_extra={"examples": [data]})
