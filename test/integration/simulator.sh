#!/bin/bash
# The marketplace simulator checks itself: every marketplace's documented
# requests (curl), pagination covering exactly the account's orders, each
# fault kind, rejected requests, and every generated order read by nexus's
# own adapters (test/sim/selftest.sh).
exec bash "$(dirname "$0")/../sim/selftest.sh"
