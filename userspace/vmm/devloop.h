/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device thread: one epoll loop over eventfds (virtqueue notifications
 * from KVM ioeventfds, wake-ups from other threads). All virtqueue work and
 * all blocking I/O for devices happens here, never on a vCPU thread.
 */
#ifndef AVF_VMM_DEVLOOP_H
#define AVF_VMM_DEVLOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define DEVLOOP_MAX_SOURCES	16
#define DEVLOOP_IDLE_TICK_MS	50	/* flush buffered output this often */

typedef void (*devloop_fn)(void *arg);

struct devloop_source {
	int fd;
	devloop_fn fn;
	void *arg;
	bool counter;		/* an eventfd: read it empty before @fn */
	bool gone;		/* hung up: no longer watched */
	bool out;		/* watched for EPOLLOUT, only while @armed */
	bool armed;
};

struct devloop {
	int epfd;
	int ctl_fd;		/* eventfd: stop / sync requests */
	pthread_t thread;
	bool running;
	unsigned int nsrc;
	struct devloop_source src[DEVLOOP_MAX_SOURCES];
	devloop_fn tick;	/* flush hook, run after events and when idle */
	void *tick_arg;
	devloop_fn fatal;	/* the loop cannot go on: stop the VM */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t sync_req, sync_done;
	bool stop;
};

int devloop_init(struct devloop *dl, devloop_fn tick, void *tick_arg);
/* Before devloop_start(): @fn(@arg) runs on the device thread when @fd (an eventfd) fires. */
int devloop_add(struct devloop *dl, int fd, devloop_fn fn, void *arg);
/*
 * Same for any pollable fd that @fn itself consumes (e.g. an epoll fd, the
 * VMM fd). After a hang-up (EPOLLHUP/EPOLLERR) the fd is no longer watched.
 */
int devloop_add_fd(struct devloop *dl, int fd, devloop_fn fn, void *arg);
/*
 * Before devloop_start(): @fn(@arg) runs when @fd (a pipe, socket, tty) is
 * writable, but only while armed with devloop_want_out() (device thread).
 * Returns the source id, or -errno (e.g. -EPERM for a regular file, which
 * is always writable: then rely on the tick).
 */
int devloop_add_out(struct devloop *dl, int fd, devloop_fn fn, void *arg);
void devloop_want_out(struct devloop *dl, int id, bool on);
/* Device thread: stop watching @fd (a source that cannot make progress). */
void devloop_forget(struct devloop *dl, int fd);
int devloop_start(struct devloop *dl);
/* Run every source once on the device thread and wait (bounded) for it. */
int devloop_sync(struct devloop *dl, int timeout_ms);
void devloop_stop(struct devloop *dl);
void devloop_exit(struct devloop *dl);

#endif
