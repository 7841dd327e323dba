#!/bin/sh
# The guest's side of tests/system/t-rng.sh: lkvm's virtio-rng as the kernel's hwrng, read twice.
d=/sys/class/misc/hw_random
echo "rng: available=$(cat $d/rng_available)"
echo virtio_rng.0 >$d/rng_current || echo "rng: cannot select virtio_rng.0"
echo "rng: current=$(cat $d/rng_current)"
for n in 1 2; do
	echo "rng: read$n=$(head -c 64 /dev/hwrng | od -An -tx1 -v | tr -d ' \n')"
done
