#!/bin/sh
# The guest's side of tests/system/t-run-options.sh: where KASLR put the kernel.
echo "kaslr: text=$(grep ' _stext$' /proc/kallsyms | cut -d' ' -f1)"
