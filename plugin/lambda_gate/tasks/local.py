"""`invoke local-aws`: the embedded local AWS as a background service."""

from __future__ import annotations

from invoke import Exit, task

from ._common import exits, settings_from

__all__ = ["local_aws"]


@task(name="local-aws", help={
    "status": "Say whether the local AWS runs, and where.",
    "stop": "Stop the local AWS (its state is lost).",
})
@exits
def local_aws(c, status=False, stop=False):
    """Start the embedded local AWS on 127.0.0.1 (lambda_gate.local_aws.host/port)."""
    from ..local_aws import daemon
    from ..pipeline.targets import local_environment_settings

    settings = settings_from(c)
    if stop:
        print("stopped the local AWS" if daemon.stop(settings.state_dir)
              else "the local AWS was not running")
        return
    current = daemon.status(settings.state_dir)
    if status:
        if current is None:
            raise Exit("the local AWS is not running", code=1)
        print(f"running at {current.url} (pid {current.pid})")
        return
    if current is not None:
        daemon.configure(current.url, local_environment_settings(settings))
        print(f"already running at {current.url}")
        return
    started = daemon.start(settings.state_dir, settings.local_host, settings.local_port,
                           local_environment_settings(settings))
    print(started.url)


