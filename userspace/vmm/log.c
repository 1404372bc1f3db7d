// SPDX-License-Identifier: GPL-2.0
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

#define VLOG_BURST		20	/* messages per window */
#define VLOG_WINDOW_S		5

bool vlog_verbose;

static uint64_t stamps[VTS_COUNT];
static const char *const stamp_names[VTS_COUNT] = {
	"exec", "bound", "load0", "load1", "start0", "start1", "kvm_run", "boot", "started",
	"ready",
};

uint64_t vlog_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vlog_stamp(enum vlog_ts which)
{
	uint64_t zero = 0;

	if ((unsigned int)which >= VTS_COUNT)
		return;
	__atomic_compare_exchange_n(&stamps[which], &zero, vlog_now_ns(), false,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void vlog_stamps(void)
{
	char line[512];
	int off, i;

	off = snprintf(line, sizeof(line), "timestamps");
	for (i = 0; i < VTS_COUNT && off > 0 && (size_t)off < sizeof(line); i++)
		off += snprintf(line + off, sizeof(line) - (size_t)off, " %s=%llu",
				stamp_names[i],
				(unsigned long long)__atomic_load_n(&stamps[i], __ATOMIC_RELAXED));
	vlog("%s\n", line);
}

static void vvlog(const char *fmt, va_list ap)
{
	fputs("avf-vmm: ", stderr);
	vfprintf(stderr, fmt, ap);
}

void vlog(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vvlog(fmt, ap);
	va_end(ap);
}

void vlog_debug(const char *fmt, ...)
{
	va_list ap;

	if (!vlog_verbose)
		return;
	va_start(ap, fmt);
	vvlog(fmt, ap);
	va_end(ap);
}

void vlog_ratelimited(const char *fmt, ...)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static time_t window;
	static unsigned int count;
	static unsigned long suppressed;
	struct timespec now;
	va_list ap;

	pthread_mutex_lock(&lock);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - window >= VLOG_WINDOW_S) {
		if (suppressed)
			vlog("%lu messages suppressed\n", suppressed);
		window = now.tv_sec;
		count = 0;
		suppressed = 0;
	}
	if (count >= VLOG_BURST) {
		suppressed++;
		pthread_mutex_unlock(&lock);
		return;
	}
	count++;
	pthread_mutex_unlock(&lock);
	va_start(ap, fmt);
	vvlog(fmt, ap);
	va_end(ap);
}
