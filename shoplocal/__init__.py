"""Local runtime: the SAM template deployed into moto, handlers run in-process, an API Gateway emulation.

`python -m shoplocal run` is the project's main job; see docs/local-runtime.md.
"""
