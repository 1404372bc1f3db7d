// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "devloop.h"
#include "log.h"
#include "seccomp.h"

int devloop_init(struct devloop *dl, devloop_fn tick, void *tick_arg)
{
	struct epoll_event ev = { .events = EPOLLIN };

	memset(dl, 0, sizeof(*dl));
	dl->tick = tick;
	dl->tick_arg = tick_arg;
	dl->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (dl->epfd < 0)
		return -errno;
	dl->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dl->ctl_fd < 0)
		goto err_ep;
	ev.data.u32 = DEVLOOP_MAX_SOURCES;
	if (epoll_ctl(dl->epfd, EPOLL_CTL_ADD, dl->ctl_fd, &ev) < 0)
		goto err_ctl;
	pthread_mutex_init(&dl->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dl->cond, &ca);
	pthread_condattr_destroy(&ca);
	return 0;

err_ctl:
	close(dl->ctl_fd);
err_ep:
	close(dl->epfd);
	return -errno;
}

static int add_source(struct devloop *dl, int fd, devloop_fn fn, void *arg, bool counter,
		      bool out)
{
	struct epoll_event ev = { .events = out ? 0 : EPOLLIN };

	if (dl->nsrc >= DEVLOOP_MAX_SOURCES)
		return -ENOSPC;
	ev.data.u32 = dl->nsrc;
	if (epoll_ctl(dl->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	dl->src[dl->nsrc] = (struct devloop_source){ fd, fn, arg, counter, false, out, false };
	return (int)dl->nsrc++;
}

int devloop_add_out(struct devloop *dl, int fd, devloop_fn fn, void *arg)
{
	return add_source(dl, fd, fn, arg, false, true);
}

void devloop_want_out(struct devloop *dl, int id, bool on)
{
	struct devloop_source *s;
	struct epoll_event ev = { .events = 0 };

	if (id < 0 || (unsigned int)id >= dl->nsrc)
		return;
	s = &dl->src[id];
	if (!s->out || s->gone || s->armed == on)
		return;
	ev.events = on ? EPOLLOUT : 0;
	ev.data.u32 = (uint32_t)id;
	if (epoll_ctl(dl->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0) {
		vlog_ratelimited("devloop: epoll_ctl: %s\n", strerror(errno));
		return;
	}
	s->armed = on;
}

int devloop_add(struct devloop *dl, int fd, devloop_fn fn, void *arg)
{
	int ret = add_source(dl, fd, fn, arg, true, false);

	return ret < 0 ? ret : 0;
}

int devloop_add_fd(struct devloop *dl, int fd, devloop_fn fn, void *arg)
{
	int ret = add_source(dl, fd, fn, arg, false, false);

	return ret < 0 ? ret : 0;
}

static void drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		vlog_debug("devloop: eventfd read: %s\n", strerror(errno));
}

static void *devloop_thread(void *arg)
{
	struct devloop *dl = arg;
	struct epoll_event ev[DEVLOOP_MAX_SOURCES + 1];
	unsigned int i;
	int n;

	prctl(PR_SET_NAME, "devices");
	if (vmm_seccomp_install(SECCOMP_ROLE_DEVICES)) {
		vlog("devices: cannot confine the device thread\n");
		abort();	/* the module reports CRASH */
	}
	for (;;) {
		n = epoll_wait(dl->epfd, ev, DEVLOOP_MAX_SOURCES + 1, DEVLOOP_IDLE_TICK_MS);
		if (n < 0 && errno != EINTR) {
			vlog("devloop: epoll_wait: %s\n", strerror(errno));
			if (dl->fatal)
				dl->fatal(dl->tick_arg);
			break;
		}
		for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++) {
			uint32_t id = ev[i].data.u32;

			if (id >= dl->nsrc)
				continue;
			if (dl->src[id].counter)
				drain(dl->src[id].fd);
			dl->src[id].fn(dl->src[id].arg);
			/*
			 * A hung-up fd (the VMM fd when the run ends) stays
			 * readable for epoll forever: stop watching it.
			 */
			if (!dl->src[id].counter && !dl->src[id].gone &&
			    (ev[i].events & (EPOLLHUP | EPOLLERR))) {
				epoll_ctl(dl->epfd, EPOLL_CTL_DEL, dl->src[id].fd, NULL);
				dl->src[id].gone = true;
			}
		}
		pthread_mutex_lock(&dl->lock);
		bool stop = dl->stop;
		uint64_t req = dl->sync_req;
		pthread_mutex_unlock(&dl->lock);
		drain(dl->ctl_fd);
		if (req != dl->sync_done) {
			for (i = 0; i < dl->nsrc; i++)
				if (!dl->src[i].gone)
					dl->src[i].fn(dl->src[i].arg);
		}
		if (dl->tick)
			dl->tick(dl->tick_arg);
		if (req != dl->sync_done) {
			pthread_mutex_lock(&dl->lock);
			dl->sync_done = req;
			pthread_cond_broadcast(&dl->cond);
			pthread_mutex_unlock(&dl->lock);
		}
		if (stop)
			break;
	}
	return NULL;
}

void devloop_forget(struct devloop *dl, int fd)
{
	unsigned int i;

	for (i = 0; i < dl->nsrc; i++) {
		if (dl->src[i].fd != fd || dl->src[i].gone)
			continue;
		epoll_ctl(dl->epfd, EPOLL_CTL_DEL, fd, NULL);
		dl->src[i].gone = true;
	}
}

int devloop_start(struct devloop *dl)
{
	int ret = pthread_create(&dl->thread, NULL, devloop_thread, dl);

	if (ret)
		return -ret;
	dl->running = true;
	return 0;
}

static void poke(struct devloop *dl)
{
	uint64_t one = 1;

	if (write(dl->ctl_fd, &one, sizeof(one)) < 0)
		vlog_debug("devloop: poke: %s\n", strerror(errno));
}

int devloop_sync(struct devloop *dl, int timeout_ms)
{
	struct timespec ts;
	uint64_t want;
	int ret = 0;

	if (!dl->running)
		return -ESRCH;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&dl->lock);
	want = ++dl->sync_req;
	poke(dl);
	while (dl->sync_done < want && ret == 0)
		ret = pthread_cond_timedwait(&dl->cond, &dl->lock, &ts);
	pthread_mutex_unlock(&dl->lock);
	return ret ? -ret : 0;
}

void devloop_stop(struct devloop *dl)
{
	if (!dl->running)
		return;
	pthread_mutex_lock(&dl->lock);
	dl->stop = true;
	pthread_mutex_unlock(&dl->lock);
	poke(dl);
	pthread_join(dl->thread, NULL);
	dl->running = false;
}

void devloop_exit(struct devloop *dl)
{
	devloop_stop(dl);
	close(dl->ctl_fd);
	close(dl->epfd);
	pthread_cond_destroy(&dl->cond);
	pthread_mutex_destroy(&dl->lock);
}
