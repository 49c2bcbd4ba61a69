/* harness.h - a tiny unit-test harness: TEST(name) { CHECK(...); } in any
 * tests/unit/ file registers itself; main.c runs them all and ends with
 * "N passed, N failed". */
#ifndef MEMTIDE_HARNESS_H
#define MEMTIDE_HARNESS_H

#include <stdio.h>

typedef void (*test_fn)(int *failed);
void harness_register(const char *name, test_fn fn);

#define TEST(name)                                                         \
	static void test_##name(int *failed_);                             \
	__attribute__((constructor)) static void register_##name(void)     \
	{                                                                  \
		harness_register(#name, test_##name);                      \
	}                                                                  \
	static void test_##name(int *failed_)

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n",      \
				__FILE__, __LINE__, #cond);                \
			*failed_ = 1;                                      \
		}                                                          \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                 \
	do {                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);        \
		if (a_ != b_) {                                            \
			fprintf(stderr, "  %s:%d: %s == %lld, want %lld\n",  \
				__FILE__, __LINE__, #a, a_, b_);           \
			*failed_ = 1;                                      \
		}                                                          \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                 \
	do {                                                               \
		const char *a_ = (a), *b_ = (b);                           \
		if (!a_ || strcmp(a_, b_) != 0) {                          \
			fprintf(stderr, "  %s:%d: %s == \"%s\", want \"%s\"\n",\
				__FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_);\
			*failed_ = 1;                                      \
		}                                                          \
	} while (0)

#endif
