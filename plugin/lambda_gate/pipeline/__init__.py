"""The deploy: the stages called in order, and where a deploy goes.

:mod:`.deploy` runs build, apply, smoke and promote and writes the record;
:mod:`.steps` holds the steps the tasks also run on their own; :mod:`.targets` picks
the environment's AWS endpoint (starting the local AWS when needed); :mod:`.dry_run`
shows what a deploy would do. Nothing of the stages is re-exported: import them from
their own packages.
"""
