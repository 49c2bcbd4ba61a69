/* flamegraph.h - memtide where --flamegraph: a flame graph of the memory
 * grown by each Python stack of a run, drawn with cairo. */
#ifndef MEMTIDE_PLOT_FLAMEGRAPH_H
#define MEMTIDE_PLOT_FLAMEGRAPH_H

/* memtide-plot --where-flamegraph [RUN] --flamegraph OUT.svg|png [--pid N]
 * [--since T] [--until T] [--db PATH]: the arguments of memtide where, which
 * execs it (the recorder never maps cairo).  Returns the exit code. */
int flamegraph_main(int argc, char **argv);

#endif
