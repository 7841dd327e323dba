#!/bin/sh
# Keeps the guest up until the test types a line on the console (t-run-options.sh).
echo "wait: ready"
read -r _
echo "wait: done"
