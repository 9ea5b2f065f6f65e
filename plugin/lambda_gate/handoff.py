"""How a deploy and the pytest run it started talk to each other.

The deploy side (:mod:`lambda_gate.smoke`) and the pytest plugin agree on these and on
nothing else, so neither imports the other.
"""

#: The plugin reads the version to test from this file descriptor when it is set, so a
#: pytest process can start (imports, plugins, boto3) while terraform still applies.
TARGET_FD_VARIABLE = "LAMBDA_GATE_TARGET_FD"

#: A JUnit XML property of each test case that invoked the version under test (its
#: value is the qualified ARN invoked). The gate opens only when a passing test has one:
#: a suite that never calls the function is no evidence about it.
INVOKED_PROPERTY = "lambda_gate.invoked"
