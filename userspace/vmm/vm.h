/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtual machine: KVM objects, guest RAM, vCPU threads, the device
 * set and the exit dispatch from vCPUs to devices.
 */
#ifndef AVF_VMM_VM_H
#define AVF_VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "acpi.h"
#include "devloop.h"
#include "guest_mem.h"
#include "hostvirt.h"
#include "kvmstats.h"
#include "lifecycle.h"
#include "limits.h"
#include "outsink.h"
#include "serial.h"
#include "virtio.h"
#include "virtio_blk.h"
#include "virtio_console.h"
#include "virtio_vsock.h"

/* vm->stop_reason before anyone asked for a stop / for a guest reset. */
#define VM_STOP_NONE		(-100)
#define VM_STOP_GUEST_RESET	(-101)

struct vm;

/* --profile: where a vCPU's guest was, and when (CLOCK_MONOTONIC ns). */
struct vm_sample {
	uint64_t rip;
	uint64_t ns;
};

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	const char *report;	/* atomic: log where this vCPU is (vm_report_vcpus) */
	uint64_t exits;		/* atomic: userspace exits so far */
	struct kvm_stats stats;	/* KVM's counters of this vCPU */
	struct vm_sample *samples;	/* --profile: this thread's own */
	uint32_t nsamples;
};

/* Per-slot wiring of a virtio device to KVM. */
struct vdev_wire {
	struct virtio_dev *vd;
	int notify_fd;		/* ioeventfd on QueueNotify -> device thread */
	int irq_fd;		/* irqfd on GSI 5 + slot */
	uint64_t wakeups;	/* atomic: device-thread runs on a notify */
	uint64_t irqs;		/* atomic: interrupts raised */
};

enum console_slot { CON_KERNEL, CON_LOG, CON_CONTROL, CON_COUNT };

struct vm {
	int kvm_fd;
	int vm_fd;
	size_t run_size;
	struct guest_mem mem;
	unsigned int ncpus;
	enum host_virt host_virt;	/* what avf-vmm runs on: set before vm_setup_vcpus() */
	struct vcpu vcpu[VMM_CPUS_MAX];

	struct serial serial;
	struct acpi_pm acpi_pm;	/* PM1a and PM timer ports (acpi.c) */
	struct outsink serial_out;
	struct outsink console_out;
	struct outsink log_out;
	int log_out_src;	/* devloop source: the log fd became writable, or -1 */
	struct console_dev con[CON_COUNT];
	struct blk_dev pkg;
	struct blk_dev storage;
	bool has_storage;
	struct vsock_dev vsock;
	unsigned int nslots;
	struct vdev_wire wire[VIRTIO_MMIO_SLOTS];

	struct devloop devloop;
	struct lifecycle *lc;

	bool debug_full;	/* --debug full: vmm.log may show guest vCPU state */
	int stop_fd;		/* eventfd: a vCPU asks the main thread to stop */
	int stop_reason;	/* atomic: VM_STOP_* or an AVF_STOP_* */
	bool stopping;		/* atomic: vCPU threads leave KVM_RUN */
	bool log_state_on_stop;	/* atomic: a hang-up; vCPU threads log where they were */

	/* --profile: a sampler thread interrupts each vCPU every VM_PROFILE_PERIOD_US. */
	bool profiling;
	int profile_fd;		/* valid when profiling */
	pthread_t sampler;
	bool sampler_started;
	uint64_t profile_t0;	/* CLOCK_MONOTONIC ns as the vCPU threads start */

	/* What the boot cost up to the runtime's BOOT line (vm_count_boot()). */
	bool boot_counted;	/* under lc->lock */
	uint64_t boot_kvm[KST_COUNT];
	uint64_t boot_exits;	/* to avf-vmm */
	uint64_t boot_console;	/* kernel console bytes */
	uint64_t boot_uart;
	uint64_t boot_wakeups;	/* device wake-ups on guest notifies */
	uint64_t boot_irqs;	/* device interrupts */
	int32_t boot_guest_ms;	/* the guest's claim (BOOT <ms>), -1 for none: logged only */
};

/*
 * --profile: after vm_stop_vcpus(), one "vcpuN 0xRIP US" line per sample
 * (US: microseconds since the vCPU threads started) to the profile fd;
 * tools/guest-profile.sh turns them into a table of functions. vm_destroy()
 * frees the samples and closes the fd.
 */
void vm_write_profile(struct vm *vm);

/* @kvm_fd: /dev/kvm, opened before the base seccomp filter; owned by the VM after this. */
int vm_create(struct vm *vm, int kvm_fd, uint64_t mem_bytes, unsigned int ncpus);
int vm_setup_vcpus(struct vm *vm, uint64_t entry, uint64_t start_info);
/*
 * After vm_setup_vcpus(): map @len bytes of guest RAM at @gpa into KVM's
 * stage-2 (NPT/EPT) tables ahead of the guest (KVM_PRE_FAULT_MEMORY,
 * Linux 6.10), so that its first touches take no exit. For pages avf-vmm
 * wrote (kernel, initramfs): populated already, nothing is allocated.
 * Best effort: returns the bytes mapped; a kernel without the ioctl maps 0.
 */
uint64_t vm_prefault(struct vm *vm, uint64_t gpa, uint64_t len);
/* Create devices in the fixed slot order; files are owned by the VM after this. */
int vm_add_devices(struct vm *vm, int pkg_fd, int storage_fd, uint64_t cid,
		   int console_fd, int log_fd);
/* Kernel command-line fragment announcing the virtio-mmio devices. */
int vm_mmio_cmdline(const struct vm *vm, char *buf, size_t cap);
int vm_start(struct vm *vm);
/*
 * Any thread: each running vCPU logs where it is ("vcpuN: at @why: ..."):
 * its run state and exit count, and with --debug full its registers. For
 * a run that stopped making progress (vmm.rst, "Diagnosing a stall").
 */
void vm_report_vcpus(struct vm *vm, const char *why);
/* Exits to the VMM of every vCPU so far (the boot-cost guard in vm_test). */
uint64_t vm_exits(struct vm *vm);
/*
 * Device thread, at the runtime's BOOT line (the lifecycle's on_boot
 * hook, @arg the vm): note what the boot cost so far, once; vm_log_boot()
 * writes it to vmm.log as the "boot counts" line at exit.
 */
void vm_count_boot(void *arg, int32_t guest_ms);
void vm_log_boot(struct vm *vm);
/* First caller wins; wakes the main thread. */
void vm_request_stop(struct vm *vm, int reason);
void vm_stop_vcpus(struct vm *vm);
void vm_destroy(struct vm *vm);

#endif
