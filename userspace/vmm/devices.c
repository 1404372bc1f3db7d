// SPDX-License-Identifier: GPL-2.0
/*
 * The device set of Documentation/interfaces.rst in its fixed slot order,
 * wired to KVM: an ioeventfd per device on QueueNotify feeds the device
 * thread, an irqfd per device raises GSI 5 + slot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/avf.h>
#include <linux/virtio_mmio.h>

#include "log.h"
#include "vm.h"

static void wire_signal(struct virtio_dev *vd)
{
	struct vdev_wire *w = vd->wire;
	uint64_t one = 1;

	__atomic_fetch_add(&w->irqs, 1, __ATOMIC_RELAXED);
	if (write(w->irq_fd, &one, sizeof(one)) < 0)
		vlog_ratelimited("irqfd write: %s\n", strerror(errno));
}

static void wire_kick(struct virtio_dev *vd)
{
	struct vdev_wire *w = vd->wire;
	uint64_t one = 1;

	if (write(w->notify_fd, &one, sizeof(one)) < 0)
		vlog_ratelimited("notify write: %s\n", strerror(errno));
}

static void wire_process(void *arg)
{
	struct vdev_wire *w = arg;

	__atomic_fetch_add(&w->wakeups, 1, __ATOMIC_RELAXED);
	virtio_dev_process(w->vd);
}

static int wire_slot(struct vm *vm, struct virtio_dev *vd)
{
	unsigned int slot = vm->nslots;
	struct vdev_wire *w = &vm->wire[slot];
	struct kvm_ioeventfd ioev;
	struct kvm_irqfd irqfd;
	int ret;

	if (slot >= VIRTIO_MMIO_SLOTS)
		return -ENOSPC;
	w->vd = vd;
	w->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->notify_fd < 0 || w->irq_fd < 0)
		return -errno;
	vd->wire = w;
	vd->slot = slot;
	vd->signal = wire_signal;
	vd->kick = wire_kick;

	memset(&irqfd, 0, sizeof(irqfd));
	irqfd.fd = (uint32_t)w->irq_fd;
	irqfd.gsi = VIRTIO_MMIO_IRQ_BASE + slot;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return -errno;

	memset(&ioev, 0, sizeof(ioev));
	ioev.addr = VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SIZE + VIRTIO_MMIO_QUEUE_NOTIFY;
	ioev.len = 4;
	ioev.fd = w->notify_fd;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &ioev) < 0)
		vlog_debug("KVM_IOEVENTFD slot %u: %s (notifications via exits)\n", slot,
			   strerror(errno));

	ret = devloop_add(&vm->devloop, w->notify_fd, wire_process, w);
	if (ret)
		return ret;
	vm->nslots++;
	return 0;
}

static void vsock_events(void *arg)
{
	vsock_dev_poll(arg);
}

/* AVF_VMM_CONN_DONE: the outcome of a brokered connectVsock. */
static int conn_done(void *opaque, uint64_t id, int32_t result)
{
	struct vm *vm = opaque;
	struct avf_vmm_conn_done d;

	memset(&d, 0, sizeof(d));
	d.id = id;
	d.result = result;
	if (ioctl(vm->lc->vmm_fd, AVF_VMM_CONN_DONE, &d) == 0)
		return 0;
	if (errno != ENOENT)
		vlog_ratelimited("AVF_VMM_CONN_DONE %llu: %s\n", (unsigned long long)id,
				 strerror(errno));
	return -errno;
}

/*
 * Device thread, VMM fd readable: take every pending connectVsock request
 * (AVF_VMM_CONN_TAKE) and start its guest connection; the fd the module
 * hands over is the host side.
 */
static void conn_take(void *arg)
{
	struct vm *vm = arg;
	unsigned int budget = VSOCK_CONN_MAX;

	while (budget--) {
		struct avf_vmm_conn req;

		memset(&req, 0, sizeof(req));
		if (ioctl(vm->lc->vmm_fd, AVF_VMM_CONN_TAKE, &req) < 0) {
			if (errno == EAGAIN)
				return;
			/* Would spin on a readable fd: no more host connections this run. */
			vlog("AVF_VMM_CONN_TAKE: %s; host connections disabled\n",
			     strerror(errno));
			devloop_forget(&vm->devloop, vm->lc->vmm_fd);
			return;
		}
		vlog_debug("host connection %llu to guest port %u\n",
			   (unsigned long long)req.id, req.port);
		pthread_mutex_lock(&vm->vsock.vd.lock);
		vsock_dev_connect_brokered(&vm->vsock, req.fd, req.port, req.id);
		pthread_mutex_unlock(&vm->vsock.vd.lock);
		vsock_dev_poll(&vm->vsock);	/* queue the REQUEST to the guest now */
	}
}

/* Device thread: a vsock connection stopped moving (logged): where is the guest? */
static void vsock_stalled(void *arg)
{
	vm_report_vcpus(arg, "vsock stall");
}

/* hvc0, the kernel console: never stalls the guest; drops are counted. */
static size_t sink_console(void *opaque, const uint8_t *buf, size_t len)
{
	outsink_put(opaque, buf, len);
	return len;
}

/* hvc1, the payload log: backpressure, nothing lost while captured. */
static size_t sink_log(void *opaque, const uint8_t *buf, size_t len)
{
	return outsink_take(opaque, buf, len);
}

static size_t sink_control(void *opaque, const uint8_t *buf, size_t len)
{
	lifecycle_feed(opaque, buf, len);
	return len;
}

/*
 * The payload log: when its sink has room again, take the held chain and
 * the next ones; while the sink is full, wake up as soon as the fd is
 * writable (not only on the tick).
 */
static void log_resume(struct vm *vm)
{
	outsink_flush(&vm->log_out);
	if (console_dev_blocked(&vm->con[CON_LOG]) &&
	    outsink_pending(&vm->log_out) < CONSOLE_RING_BYTES)
		virtio_dev_process(&vm->con[CON_LOG].vd);
	devloop_want_out(&vm->devloop, vm->log_out_src, console_dev_blocked(&vm->con[CON_LOG]));
}

static void log_writable(void *arg)
{
	log_resume(arg);
}

static void flush_outputs(void *arg)
{
	struct vm *vm = arg;

	outsink_flush(&vm->console_out);
	log_resume(vm);
}

/* Device thread, after events and at least every DEVLOOP_IDLE_TICK_MS. */
static void device_tick(void *arg)
{
	struct vm *vm = arg;

	flush_outputs(vm);
	if (vm->vsock.vd.ops)
		vsock_dev_expire(&vm->vsock, vsock_now_ms());
}

static void devloop_failed(void *arg)
{
	vm_request_stop(arg, AVF_STOP_INFRASTRUCTURE_ERROR);
}

static void serial_irq(void *opaque, bool level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = SERIAL_IRQ, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		vlog_ratelimited("serial irq: %s\n", strerror(errno));
}

int vm_add_devices(struct vm *vm, int pkg_fd, int storage_fd, uint64_t cid,
		   int console_fd, int log_fd)
{
	int ret;

	outsink_init(&vm->console_out, console_fd);
	outsink_init(&vm->log_out, log_fd);
	outsink_init(&vm->serial_out, console_fd);
	serial_init(&vm->serial, &vm->serial_out, serial_irq, vm);

	ret = devloop_init(&vm->devloop, device_tick, vm);
	if (ret)
		return ret;
	vm->devloop.fatal = devloop_failed;
	vm->log_out_src = -1;
	if (log_fd >= 0) {
		ret = devloop_add_out(&vm->devloop, log_fd, log_writable, vm);
		if (ret >= 0)
			vm->log_out_src = ret;
		else if (ret != -EPERM)	/* a regular file: always writable */
			return ret;
	}

	ret = console_dev_init(&vm->con[CON_KERNEL], &vm->mem, sink_console, &vm->console_out);
	ret = ret ?: wire_slot(vm, &vm->con[CON_KERNEL].vd);
	ret = ret ?: console_dev_init(&vm->con[CON_LOG], &vm->mem, sink_log, &vm->log_out);
	ret = ret ?: wire_slot(vm, &vm->con[CON_LOG].vd);
	ret = ret ?: console_dev_init(&vm->con[CON_CONTROL], &vm->mem, sink_control, vm->lc);
	ret = ret ?: wire_slot(vm, &vm->con[CON_CONTROL].vd);
	if (ret)
		return ret;

	vm->pkg.fd = -1;
	ret = blk_dev_init(&vm->pkg, &vm->mem, pkg_fd, true, "avf-package");
	if (ret) {
		close(pkg_fd);
		if (storage_fd >= 0)
			close(storage_fd);
		return ret;
	}
	ret = wire_slot(vm, &vm->pkg.vd);
	ret = ret ?: vsock_dev_init(&vm->vsock, &vm->mem, cid);
	ret = ret ?: wire_slot(vm, &vm->vsock.vd);
	ret = ret ?: devloop_add_fd(&vm->devloop, vm->vsock.epfd, vsock_events, &vm->vsock);
	if (!ret && vm->lc->vmm_fd >= 0) {
		/* Host connections arrive through the module (bound mode). */
		vm->vsock.conn_done = conn_done;
		vm->vsock.conn_done_opaque = vm;
		vm->vsock.stalled = vsock_stalled;
		ret = devloop_add_fd(&vm->devloop, vm->lc->vmm_fd, conn_take, vm);
	}
	if (ret) {
		if (storage_fd >= 0)
			close(storage_fd);
		return ret;
	}
	if (storage_fd >= 0) {
		vm->storage.fd = -1;
		ret = blk_dev_init(&vm->storage, &vm->mem, storage_fd, false, "avf-storage");
		if (ret) {
			close(storage_fd);
			return ret;
		}
		vm->has_storage = true;
		ret = wire_slot(vm, &vm->storage.vd);
	}
	return ret;
}

int vm_mmio_cmdline(const struct vm *vm, char *buf, size_t cap)
{
	size_t used = 0;
	unsigned int i;

	if (cap)
		buf[0] = '\0';
	for (i = 0; i < vm->nslots; i++) {
		int n = snprintf(buf + used, cap - used, "%svirtio_mmio.device=4K@%#llx:%u",
				 i ? " " : "",
				 (unsigned long long)(VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE),
				 VIRTIO_MMIO_IRQ_BASE + i);

		if (n < 0 || (size_t)n >= cap - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	vm_stop_vcpus(vm);
	if (vm->devloop.epfd > 0)
		devloop_exit(&vm->devloop);
	outsink_flush(&vm->console_out);
	outsink_flush(&vm->log_out);
	for (i = 0; i < vm->nslots; i++) {
		close(vm->wire[i].notify_fd);
		close(vm->wire[i].irq_fd);
	}
	if (vm->pkg.vd.ops)
		blk_dev_exit(&vm->pkg);
	if (vm->vsock.vd.ops)
		vsock_dev_exit(&vm->vsock);
	if (vm->has_storage)
		blk_dev_exit(&vm->storage);
	if (vm->profiling) {	/* vm_write_profile() wrote it, or the run ended before */
		close(vm->profile_fd);
		vm->profiling = false;
	}
	for (i = 0; i < vm->ncpus; i++) {
		free(vm->vcpu[i].samples);
		vm->vcpu[i].samples = NULL;
		if (vm->vcpu[i].run)
			munmap(vm->vcpu[i].run, vm->run_size);
		kvmstats_close(&vm->vcpu[i].stats);
		if (vm->vcpu[i].fd > 0)
			close(vm->vcpu[i].fd);
	}
	gmem_exit(&vm->mem);
	if (vm->stop_fd > 0)
		close(vm->stop_fd);
	if (vm->vm_fd > 0)
		close(vm->vm_fd);
	if (vm->kvm_fd > 0)
		close(vm->kvm_fd);
}
