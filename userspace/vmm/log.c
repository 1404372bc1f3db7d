// SPDX-License-Identifier: GPL-2.0
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

#define VLOG_BURST		20	/* messages per window */
#define VLOG_WINDOW_S		5

bool vlog_verbose;

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
