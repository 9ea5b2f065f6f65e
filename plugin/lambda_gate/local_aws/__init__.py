"""An embedded local AWS: moto's server plus a Lambda runtime that needs no Docker.

moto answers every AWS API; our middleware (:mod:`.middleware`) sits in front of it
and serves what moto cannot or does too loosely for lambda-gate's purposes:

* ``Invoke`` really runs the published code of the version the qualifier names (or the
  version an alias routes to), under its runtime's exact interpreter
  (:mod:`.runtimes`), isolated from the host's packages (:mod:`.provided_packages`),
  in an execution environment that is reused as Lambda reuses them
  (:mod:`.environments`).
* Alias and version rules Lambda enforces and moto does not, and Lambda's messages
  where moto's differ (:mod:`.fidelity`).
* ``GetAccountSettings``, which moto lacks.

Start it in-process with :func:`.server.serve_in_thread`, or as a background process
with :func:`.daemon.start`.
"""
