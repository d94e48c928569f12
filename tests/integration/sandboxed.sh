#!/usr/bin/env bash
# tests/integration/sandboxed.sh BUILD - every test that needs KVM, in one
# go (one sandbox boot): hw mode (kvm.sh), then shadow mode (shadow.sh),
# then several guests on one machine (multi.sh).
cd "$(dirname "$0")/../.."
status=0
tests/integration/kvm.sh "$@" || status=1
tests/integration/shadow.sh "$@" || status=1
tests/integration/multi.sh "$@" || status=1
exit $status
