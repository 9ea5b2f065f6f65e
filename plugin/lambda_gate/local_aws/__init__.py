"""An embedded local AWS: moto's server plus a Lambda runtime that needs no Docker.

moto answers every AWS API; our middleware (:mod:`.middleware`) sits in front of it
and serves what moto cannot or does too loosely for lambda-gate's purposes:

* ``Invoke`` really runs the published code of the version the qualifier names (or the
  version an alias routes to), in a fresh local ``python3.x`` or ``node`` process.
  **An execution environment is never reused**: every invocation starts a new process,
  so module-level state does not survive between invocations as it may on AWS.
* Alias and version rules Lambda enforces and moto does not (:mod:`.fidelity`).
* ``GetAccountSettings``, which moto lacks.

Start it in-process with :func:`.server.serve_in_thread`, or as a background process
with :func:`.daemon.start`.
"""
