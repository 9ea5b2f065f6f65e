"""How a deploy hands the version under test to a pytest run it started early.

The deploy side (:mod:`lambda_gate.smoke`) and the pytest plugin agree on this and on
nothing else, so neither imports the other.
"""

#: The plugin reads the version to test from this file descriptor when it is set, so a
#: pytest process can start (imports, plugins, boto3) while terraform still applies.
TARGET_FD_VARIABLE = "LAMBDA_GATE_TARGET_FD"
