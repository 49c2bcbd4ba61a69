/* pystack_fake.c - a process that looks like CPython 3.11 to lib/pystack.c
 * (it exports _PyRuntime and Py_Version, -rdynamic) but whose interpreter
 * is made up, for tests/e2e/test_pystack.py:
 *   pystack_fake threads   the thread list loops on itself;
 *   pystack_fake frames    a valid thread whose frames loop (two frames
 *                          pointing at each other);
 *   pystack_fake torn      the same two frames without the loop, while a
 *                          thread sets the words the reader follows, one
 *                          at a time, to random values and back;
 *   pystack_fake torn 3.10 the same as CPython 3.10 lays it out: its
 *                          frames are PyFrameObjects whose f_lasti the
 *                          reader doubles;
 *   pystack_fake random    a thread rewrites everything the reader follows
 *                          with random words, most of them pointers back
 *                          into it, as fast as it can.
 * Prints "ready" and runs until killed.  Offsets are those of 3.11
 * (lib/pystack_layout.c). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

unsigned long Py_Version = 0x030b02f0;
uint64_t _PyRuntime[512];

#define WORDS 8192
static uint64_t arena[WORDS];

#define AT(base, off) (*(uint64_t *)((char *)(base) + (off)))

static void threads_loop(void)
{
	uint64_t *interp = &arena[0], *tstate = &arena[100];

	AT(_PyRuntime, 40) = (uint64_t)interp;
	AT(interp, 16) = (uint64_t)tstate;
	AT(tstate, 8) = (uint64_t)tstate;
}

static void frames_loop(int cycle)
{
	uint64_t *interp = &arena[0], *tstate = &arena[100], *cframe = &arena[200];
	uint64_t *f1 = &arena[300], *f2 = &arena[340], *code = &arena[400], *str = &arena[600];
	uint64_t *bytes = &arena[700];

	AT(_PyRuntime, 40) = (uint64_t)interp;
	AT(_PyRuntime, 368) = (uint64_t)tstate; /* the GIL's holder */
	*(int32_t *)((char *)_PyRuntime + 376) = 1;
	AT(interp, 16) = (uint64_t)tstate;
	AT(tstate, 56) = (uint64_t)cframe;
	AT(cframe, 8) = (uint64_t)f1;
	AT(f1, 48) = (uint64_t)f2;
	AT(f2, 48) = cycle ? (uint64_t)f1 : 0;
	AT(f1, 32) = AT(f2, 32) = (uint64_t)code;
	AT(f1, 56) = AT(f2, 56) = (uint64_t)code + 184;
	AT(code, 112) = AT(code, 120) = AT(code, 128) = (uint64_t)str;
	AT(code, 136) = (uint64_t)bytes;
	AT(str, 16) = 3;                         /* length */
	AT(str, 32) = (1u << 5) | (1u << 6) | (1u << 2); /* compact ASCII */
	memcpy((char *)str + 48, "abc", 4);
}

/* Two frames of 3.10 (offsets of lib/pystack_layout.c), no loop. */
static void frames_310(void)
{
	uint64_t *interp = &arena[0], *tstate = &arena[100];
	uint64_t *f1 = &arena[300], *f2 = &arena[340], *code = &arena[400], *str = &arena[600];
	uint64_t *bytes = &arena[700];

	Py_Version = 0x030a0cf0;
	AT(_PyRuntime, 32) = (uint64_t)interp;
	AT(_PyRuntime, 360) = (uint64_t)tstate; /* the GIL's holder */
	*(int32_t *)((char *)_PyRuntime + 368) = 1;
	AT(interp, 8) = (uint64_t)tstate;
	AT(tstate, 24) = (uint64_t)f1;
	AT(f1, 24) = (uint64_t)f2;
	AT(f1, 32) = AT(f2, 32) = (uint64_t)code;
	*(int32_t *)((char *)f1 + 96) = *(int32_t *)((char *)f2 + 96) = 3;
	AT(code, 104) = AT(code, 112) = (uint64_t)str;
	AT(code, 120) = (uint64_t)bytes;
	*(int32_t *)((char *)code + 40) = 1; /* co_firstlineno */
	AT(str, 16) = 3;                         /* length */
	AT(str, 32) = (1u << 5) | (1u << 6) | (1u << 2); /* compact ASCII */
	memcpy((char *)str + 48, "abc", 4);
}

/* volatile: the stores are for another process to see, which the
 * compiler cannot know. */
static void *scribble(void *arg)
{
	volatile uint64_t *w = arena, *rt = _PyRuntime;
	uint64_t x = 88172645463325252ull;

	(void)arg;
	for (;;) {
		for (int i = 0; i < WORDS; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* Mostly pointers back in, some small numbers (lengths,
			 * flags, owners), a few wild words. */
			w[i] = (x & 7) > 1 ? (uint64_t)&arena[(x >> 8) % WORDS]
			       : (x & 7) ? (x >> 8) & 0xff : x;
		}
		rt[40 / 8] = (uint64_t)&arena[x % WORDS];
		rt[368 / 8] = (uint64_t)&arena[(x >> 20) % WORDS];
		rt[376 / 8] = (x >> 40) & 1; /* locked */
	}
	return NULL;
}

/* Every word of the made-up interpreter (arg: of its frames only, words
 * 300 to 359), in turn set to a random value and back: a reader sees a
 * torn structure now and then. */
static void *tear(void *arg)
{
	volatile uint64_t *w = arena;
	uint64_t x = 88172645463325252ull;
	int lo = arg ? 300 : 0, n = arg ? 60 : 800;

	for (;;) {
		int i;
		uint64_t keep;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		i = lo + (int)((x >> 16) % (uint64_t)n);
		keep = w[i];
		w[i] = (x & 1) ? (uint64_t)&arena[(x >> 8) % 800] : x;
		for (volatile int spin = 0; spin < 1000; spin++)
			;
		w[i] = keep;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc == 2 && strcmp(argv[1], "threads") == 0)
		threads_loop();
	else if (argc == 2 && strcmp(argv[1], "frames") == 0)
		frames_loop(1);
	else if (argc == 2 && strcmp(argv[1], "torn") == 0) {
		frames_loop(0);
		pthread_create(&t, NULL, tear, NULL);
	} else if (argc == 3 && strcmp(argv[1], "torn") == 0 && strcmp(argv[2], "3.10") == 0) {
		frames_310();
		pthread_create(&t, NULL, tear, arena); /* its frames: f_lasti more often */
	} else if (argc == 2 && strcmp(argv[1], "random") == 0)
		pthread_create(&t, NULL, scribble, NULL);
	else
		return 2;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
