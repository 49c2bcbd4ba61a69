/* recorder.h - who records a run (run.recorder_pid, recorder_start), for
 * store.c; see store_run_recording() in include/memtide/store.h. */
#ifndef MEMTIDE_RECORDER_H
#define MEMTIDE_RECORDER_H

#include <stddef.h>
#include <stdint.h>

/* This boot's /proc/sys/kernel/random/boot_id into buf ("" when unread).
 * Returns 0 or -errno. */
int recorder_boot_id(char *buf, size_t len);

/* This process's pid and start time (clock ticks since boot).  Returns 0
 * or -errno. */
int recorder_self(int *pid, uint64_t *start_ticks);

#endif
