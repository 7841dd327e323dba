/* Threadless virtio workers for the fuzz targets (fake-worker.c). */
#ifndef FUZZ_FAKE_WORKER_H
#define FUZZ_FAKE_WORKER_H

/* Runs every started worker while it has kicks or its fd is ready; aborts if that never ends. */
void fake_worker__run_all(void);

#endif
