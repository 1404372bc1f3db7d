// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/avf.h>
#include <linux/virtio_mmio.h>

#include "boot.h"
#include "hostvirt.h"
#include "log.h"
#include "seccomp.h"
#include "vm.h"

#define KVM_IDENTITY_MAP_ADDR	(GPA_TSS_ADDR - 0x1000)
#define CPUID_MAX_ENTRIES	256
#define CPUID1_ECX_X2APIC	(1U << 21)
#define CPUID1_ECX_TSC_DEADLINE	(1U << 24)
#define CPUID1_ECX_HYPERVISOR	(1U << 31)
#define VCPU_KICK_SIGNAL	SIGUSR1
#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

/* GDT for PVH entry: flat 32-bit code (0x10), data (0x18), TSS (0x20). */
#define GDT_SEL_CODE	0x10
#define GDT_SEL_DATA	0x18
#define GDT_SEL_TSS	0x20
static const uint64_t boot_gdt[] = {
	0,
	0,
	0x00cf9b000000ffffULL,
	0x00cf93000000ffffULL,
	0x00008b0000000067ULL,
};

/* ---- creation ---------------------------------------------------------- */

int vm_create(struct vm *vm, int kvm_fd, uint64_t mem_bytes, unsigned int ncpus)
{
	struct kvm_userspace_memory_region region;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = KVM_IDENTITY_MAP_ADDR;
	int ret, sz;

	vm->stop_reason = VM_STOP_NONE;
	vm->ncpus = ncpus;
	vm->kvm_fd = kvm_fd;
	if (vm->kvm_fd < 0)
		return -EBADF;
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return -ENOTSUP;
	sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0)
		return -errno;
	vm->run_size = (size_t)sz;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return -errno;

	ret = gmem_init(&vm->mem, mem_bytes);
	if (ret)
		return ret;
	memset(&region, 0, sizeof(region));
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = mem_bytes;
	region.userspace_addr = (uintptr_t)vm->mem.host;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	/* VMX needs these below 4 GiB outside RAM; SVM ignores them. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)GPA_TSS_ADDR) < 0)
		vlog_debug("KVM_SET_TSS_ADDR: %s\n", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
		vlog_debug("KVM_SET_IDENTITY_MAP_ADDR: %s\n", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return -errno;
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return -errno;
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return -errno;
	acpi_pm_init(&vm->acpi_pm, vlog_now_ns);
	return 0;
}

/* ---- vCPU setup -------------------------------------------------------- */

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	struct kvm_cpuid2 *c;
	size_t sz = sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);

	c = calloc(1, sz);
	if (!c)
		return NULL;
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

/*
 * What the guest is told beyond KVM's supported list: the hypervisor bit,
 * and the TSC-deadline timer bit when KVM emulates that timer (it leaves
 * the bit to userspace, KVM_CAP_TSC_DEADLINE_TIMER) and the host is not
 * emulated (tsc_deadline_wanted(): on the test host, nested KVM under TCG,
 * a guest programming its timer by that MSR was seen halted with a sleep
 * long due and no timer interrupt coming, and so was the same guest under
 * QEMU with -cpu host; Documentation/vmm.rst "Memory map").
 */
static void cpuid_tune(struct vm *vm, struct kvm_cpuid2 *c)
{
	bool kvm_has = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	enum host_virt hv = vm->host_virt;
	bool deadline = tsc_deadline_wanted(hv, kvm_has);
	unsigned int i;

	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != 1)
			continue;
		e->ecx |= CPUID1_ECX_HYPERVISOR;
		if (deadline)
			e->ecx |= CPUID1_ECX_TSC_DEADLINE;
		else
			e->ecx &= ~CPUID1_ECX_TSC_DEADLINE;
		vlog_debug("cpuid 1: ecx %#x (x2apic %s, tsc-deadline %s: host %s, KVM %s)\n",
			   e->ecx, e->ecx & CPUID1_ECX_X2APIC ? "on" : "off",
			   deadline ? "on" : "off", host_virt_name(hv),
			   kvm_has ? "emulates it" : "without it");
	}
}

static int vcpu_set_cpuid(struct vcpu *v, const struct kvm_cpuid2 *tmpl)
{
	size_t sz = sizeof(*tmpl) + tmpl->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(sz);
	unsigned int i;
	int ret = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, tmpl, sz);
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffff) | (v->vm->ncpus << 16) | (v->id << 24);
			break;
		case 0xb:
		case 0x1f:
			e->edx = v->id;
			break;
		}
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
	free(c);
	return ret;
}

static int vcpu_set_lapic(struct vcpu *v)
{
	struct kvm_lapic_state lapic;
	uint32_t lvt;

	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	memcpy(&lvt, &lapic.regs[APIC_LVT0], 4);
	lvt = (lvt & ~0x700U) | (APIC_MODE_EXTINT << 8);
	memcpy(&lapic.regs[APIC_LVT0], &lvt, 4);
	memcpy(&lvt, &lapic.regs[APIC_LVT1], 4);
	lvt = (lvt & ~0x700U) | (APIC_MODE_NMI << 8);
	memcpy(&lapic.regs[APIC_LVT1], &lvt, 4);
	if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->db = 1;
	s->s = 1;
	s->g = 1;
}

/* PVH entry state: 32-bit flat protected mode, paging off, EBX = start_info. */
static int vcpu_set_pvh_entry(struct vcpu *v, uint64_t entry, uint64_t start_info)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg_flat(&sregs.cs, GDT_SEL_CODE, 0xb);
	seg_flat(&sregs.ds, GDT_SEL_DATA, 0x3);
	sregs.es = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.ss = sregs.ds;
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.selector = GDT_SEL_TSS;
	sregs.tr.limit = 0x67;
	sregs.tr.type = 0xb;
	sregs.tr.present = 1;
	sregs.gdt.base = GPA_GDT;
	sregs.gdt.limit = sizeof(boot_gdt) - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = 0x11;	/* PE | ET */
	sregs.cr3 = 0;
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rbx = start_info;
	regs.rflags = 0x2;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int vm_setup_vcpus(struct vm *vm, uint64_t entry, uint64_t start_info)
{
	struct kvm_cpuid2 *cpuid;
	unsigned int i;
	int ret = 0;

	ret = gmem_write(&vm->mem, GPA_GDT, boot_gdt, sizeof(boot_gdt));
	if (ret)
		return ret;
	cpuid = supported_cpuid(vm->kvm_fd);
	if (!cpuid)
		return -errno ? -errno : -ENOMEM;
	cpuid_tune(vm, cpuid);
	for (i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			ret = -errno;
			break;
		}
		/* Counters only: a kernel without them boots all the same. */
		if (kvmstats_open(v->fd, &v->stats))
			vlog_debug("vcpu%u: no KVM statistics (KVM_GET_STATS_FD)\n", i);
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			ret = -errno;
			break;
		}
		ret = vcpu_set_cpuid(v, cpuid);
		if (!ret)
			ret = vcpu_set_lapic(v);
		/* Application processors wait for INIT/SIPI from the guest. */
		if (!ret && i == 0)
			ret = vcpu_set_pvh_entry(v, entry, start_info);
		if (ret)
			break;
	}
	free(cpuid);
	return ret;
}

/* ---- exits ------------------------------------------------------------- */

/*
 * Port I/O. Returns true when the guest asked for a reset: the kernel's
 * restart with reboot=p (the base command line) writes the reset bits to
 * the reset control register 0xcf9, so a deliberate restart (reboot(2),
 * panic with panic=-1) is told apart from a triple fault, which is then
 * always a crash.
 */
static bool pio(struct vm *vm, uint16_t port, uint8_t *data, unsigned int size, bool out)
{
	if (port >= SERIAL_PORT_BASE && port < SERIAL_PORT_BASE + 8 && size == 1) {
		if (out)
			serial_out(&vm->serial, port - SERIAL_PORT_BASE, *data);
		else
			*data = serial_in(&vm->serial, port - SERIAL_PORT_BASE);
		return false;
	}
	if (port == RESET_CONTROL_PORT && size == 1) {
		if (!out)
			*data = 0;
		return out && (*data & RESET_CONTROL_RST_CPU);
	}
	if (acpi_pm_pio(&vm->acpi_pm, port, data, size, out))
		return false;
	/* CMOS (0x70/0x71) reads as zero: no update in progress, no RTC. */
	if (!out)
		memset(data, (port == 0x71) ? 0 : 0xff, size);
	return false;
}

static void mmio(struct vm *vm, uint64_t addr, uint8_t *data, unsigned int len, bool write)
{
	uint64_t off = addr - VIRTIO_MMIO_BASE;
	unsigned int slot;

	if (addr >= VIRTIO_MMIO_BASE && off < VIRTIO_MMIO_SIZE * vm->nslots) {
		slot = (unsigned int)(off / VIRTIO_MMIO_SIZE);
		off %= VIRTIO_MMIO_SIZE;
		if (off + len > VIRTIO_MMIO_SIZE)
			len = (unsigned int)(VIRTIO_MMIO_SIZE - off);
		if (write)
			virtio_mmio_write(vm->wire[slot].vd, off, data, len);
		else
			virtio_mmio_read(vm->wire[slot].vd, off, data, len);
		return;
	}
	if (!write)
		memset(data, 0, len);
}

/*
 * A guest reset ends the run; vmm.log says which kind (Documentation/
 * vmm.rst, "Diagnosing a guest reset"). KVM_EXIT_SHUTDOWN is a triple
 * fault: with reboot=p in the base command line the guest kernel's own
 * restarts arrive as a reset request on port 0xcf9 instead, so a triple
 * fault is a guest crash (an exception it could not deliver), unless the
 * guest was told reboot=t (then an empty IDT: limit 0). On AMD (SVM) KVM
 * resets the vCPU before it returns the exit (the VMCB is undefined after
 * a shutdown intercept): the registers are the reset vector, not the
 * crash site. The vCPU state is the guest's: logged only with --debug
 * full (a debuggable VM shows its owner everything anyway).
 */
/* The guest's vCPU state on one line (--debug full only, see below). */
static void log_vcpu_state(struct vcpu *v, const char *what, const char *kind,
			   const struct kvm_regs *r, const struct kvm_sregs *s)
{
	struct kvm_vcpu_events ev;

	/*
	 * Paging on with the page-table root outside guest RAM is no state
	 * the guest can have put itself in: the state was handed to it by
	 * the host (issue 12: a TCG test host resumed a nested guest with
	 * its own RIP and CR3; Documentation/vmm.rst, "Diagnosing a stall").
	 */
	bool foreign = (s->cr0 & 0x80000000ULL) &&
		       !gmem_range_ok(&v->vm->mem, s->cr3 & 0x000ffffffffff000ULL, 4096);

	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		memset(&ev, 0, sizeof(ev));
	vlog("vcpu%u: %s: %s: rip %#llx rsp %#llx rflags %#llx cs %#x cr0 %#llx cr2 %#llx "
	     "cr3 %#llx cr4 %#llx efer %#llx idt %#llx/%#x exc %u/%u nr %u err %#x "
	     "nmi %u/%u irq %u/%u%s\n", v->id, what, kind,
	     (unsigned long long)r->rip, (unsigned long long)r->rsp,
	     (unsigned long long)r->rflags, s->cs.selector, (unsigned long long)s->cr0,
	     (unsigned long long)s->cr2, (unsigned long long)s->cr3, (unsigned long long)s->cr4,
	     (unsigned long long)s->efer, (unsigned long long)s->idt.base, s->idt.limit,
	     ev.exception.injected, ev.exception.pending, ev.exception.nr,
	     ev.exception.error_code, ev.nmi.injected, ev.nmi.pending, ev.interrupt.injected,
	     ev.interrupt.nr,
	     foreign ? " (cr3 outside guest RAM: a vCPU state the host made, not the guest)" : "");
}

/* This vCPU's registers (its own thread, outside KVM_RUN); false with errno. */
static bool vcpu_regs(struct vcpu *v, struct kvm_regs *r, struct kvm_sregs *s)
{
	return ioctl(v->fd, KVM_GET_SREGS, s) == 0 && ioctl(v->fd, KVM_GET_REGS, r) == 0;
}

static void log_shutdown(struct vcpu *v, const char *what)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	const char *kind;

	if (!vcpu_regs(v, &r, &s)) {
		vlog("vcpu%u: %s (state unavailable: %s)\n", v->id, what, strerror(errno));
		return;
	}
	if (s.cs.selector == 0xf000 && r.rip == 0xfff0)
		kind = "triple fault: guest crash (vCPU state already reset by KVM)";
	else if (s.idt.limit == 0)
		kind = "triple fault with an empty IDT: a reboot=t restart";
	else
		kind = "triple fault: guest crash";
	if (!v->vm->debug_full) {
		vlog("vcpu%u: %s: %s\n", v->id, what, kind);
		return;
	}
	log_vcpu_state(v, what, kind, &r, &s);
}

/*
 * A VM stopped because it hung in boot (hang-up): where each vCPU was when
 * it was stopped, for a --debug full VM (the guest's state, as above).
 */
static void log_hang(struct vcpu *v)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	if (!v->vm->debug_full || !__atomic_load_n(&v->vm->log_state_on_stop, __ATOMIC_ACQUIRE))
		return;
	if (!vcpu_regs(v, &r, &s))
		vlog("vcpu%u: at hang-up: state unavailable: %s\n", v->id, strerror(errno));
	else
		log_vcpu_state(v, "at hang-up", s.cr0 & 1 ? "stopped" : "stopped in real mode",
			       &r, &s);
}

/* This vCPU's thread, asked by vm_report_vcpus(). */
static void log_report(struct vcpu *v, const char *why)
{
	struct kvm_mp_state mp = { 0 };
	struct kvm_sregs s;
	struct kvm_regs r;
	const char *state;

	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0)
		state = "state unavailable";
	else if (mp.mp_state == KVM_MP_STATE_RUNNABLE)
		state = "runnable";
	else if (mp.mp_state == KVM_MP_STATE_HALTED)
		state = "halted (waiting for an interrupt)";
	else
		state = "waiting for INIT/SIPI";
	char what[64];

	if (!v->vm->debug_full || !vcpu_regs(v, &r, &s)) {
		vlog("vcpu%u: at %s: %s, %llu exits\n", v->id, why, state,
		     (unsigned long long)__atomic_load_n(&v->exits, __ATOMIC_RELAXED));
		return;
	}
	/* the same "vcpuN: at WHY: STATE" as without registers */
	snprintf(what, sizeof(what), "at %s", why);
	log_vcpu_state(v, what, state, &r, &s);
}

void vm_report_vcpus(struct vm *vm, const char *why)
{
	unsigned int i;

	for (i = 0; i < vm->ncpus; i++) {
		if (!vm->vcpu[i].started)
			continue;
		__atomic_store_n(&vm->vcpu[i].report, why, __ATOMIC_RELEASE);
		pthread_kill(vm->vcpu[i].thread, VCPU_KICK_SIGNAL);
	}
}

#ifndef KVM_PRE_FAULT_MEMORY	/* Linux 6.10 UAPI; the build host's headers may be older */
struct kvm_pre_fault_memory {
	__u64 gpa;
	__u64 size;
	__u64 flags;
	__u64 padding[5];
};
#define KVM_PRE_FAULT_MEMORY	_IOWR(KVMIO, 0xd5, struct kvm_pre_fault_memory)
#endif

uint64_t vm_prefault(struct vm *vm, uint64_t gpa, uint64_t len)
{
	struct kvm_pre_fault_memory pf;
	unsigned int stuck = 0;
	uint64_t done = 0;

	if (!vm->ncpus || !len)
		return 0;
	memset(&pf, 0, sizeof(pf));
	pf.gpa = gpa & ~0xfffULL;
	pf.size = ((gpa + len + 0xfff) & ~0xfffULL) - pf.gpa;
	/*
	 * KVM advances gpa and shrinks size as it goes; EINTR/EAGAIN: go on,
	 * but not for ever without progress (it is only an optimisation).
	 */
	while (pf.size && stuck < 64) {
		uint64_t before = pf.size;

		if (ioctl(vm->vcpu[0].fd, KVM_PRE_FAULT_MEMORY, &pf) < 0 && errno != EINTR &&
		    errno != EAGAIN) {
			vlog_debug("KVM_PRE_FAULT_MEMORY %#llx+%#llx: %s\n",
				   (unsigned long long)pf.gpa, (unsigned long long)pf.size,
				   strerror(errno));
			break;
		}
		stuck = pf.size == before ? stuck + 1 : 0;
		done += before - pf.size;
	}
	return done;
}

uint64_t vm_exits(struct vm *vm)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < vm->ncpus; i++)
		n += __atomic_load_n(&vm->vcpu[i].exits, __ATOMIC_RELAXED);
	return n;
}

void vm_count_boot(void *arg, int32_t guest_ms)
{
	struct vm *vm = arg;
	unsigned int i;

	if (vm->boot_counted)
		return;
	vm->boot_counted = true;
	vm->boot_guest_ms = guest_ms;
	for (i = 0; i < vm->ncpus; i++)
		kvmstats_add(&vm->vcpu[i].stats, vm->boot_kvm);
	vm->boot_exits = vm_exits(vm);
	vm->boot_console = __atomic_load_n(&vm->console_out.written, __ATOMIC_RELAXED);
	vm->boot_uart = __atomic_load_n(&vm->serial_out.written, __ATOMIC_RELAXED);
	for (i = 0; i < vm->nslots; i++) {
		vm->boot_wakeups += __atomic_load_n(&vm->wire[i].wakeups, __ATOMIC_RELAXED);
		vm->boot_irqs += __atomic_load_n(&vm->wire[i].irqs, __ATOMIC_RELAXED);
	}
}

void vm_log_boot(struct vm *vm)
{
	char line[512];
	int off, k;

	if (!vm->boot_counted)
		return;
	off = snprintf(line, sizeof(line), "boot counts: vmm_exits=%llu console_bytes=%llu uart_bytes=%llu "
		       "dev_wakeups=%llu dev_irqs=%llu",
		       (unsigned long long)vm->boot_exits, (unsigned long long)vm->boot_console,
		       (unsigned long long)vm->boot_uart, (unsigned long long)vm->boot_wakeups,
		       (unsigned long long)vm->boot_irqs);
	for (k = 0; k < KST_COUNT && off > 0 && (size_t)off < sizeof(line); k++)
		if (vm->vcpu[0].stats.off[k])
			off += snprintf(line + off, sizeof(line) - (size_t)off, " kvm_%s=%llu",
					kvmstats_names[k], (unsigned long long)vm->boot_kvm[k]);
	/* what the guest says its kernel took (CLOCK_BOOTTIME at init): its claim, not ours */
	if (vm->boot_guest_ms >= 0 && off > 0 && (size_t)off < sizeof(line))
		snprintf(line + off, sizeof(line) - (size_t)off, " guest_says_boot_ms=%d",
			 vm->boot_guest_ms);
	vlog("%s\n", line);
}

/* --profile: where the guest was when this vCPU's thread got the sampler's signal. */
static void vcpu_sample(struct vcpu *v)
{
	struct kvm_regs r;

	if (!v->samples || v->nsamples >= VM_PROFILE_MAX_SAMPLES)
		return;
	if (ioctl(v->fd, KVM_GET_REGS, &r))
		return;
	v->samples[v->nsamples].rip = r.rip;
	v->samples[v->nsamples++].ns = vlog_now_ns();
}

/*
 * --profile: interrupt every vCPU thread each period. The signal makes
 * KVM_RUN return EINTR once the guest exits (at the latest at the host's
 * next timer tick), so a sample is where the guest spent its time, exits
 * included.
 */
static void *sampler_thread(void *arg)
{
	struct vm *vm = arg;
	struct timespec next;
	unsigned int i;

	prctl(PR_SET_NAME, "sampler");
	if (vmm_seccomp_install(SECCOMP_ROLE_SAMPLER)) {
		vlog("sampler: cannot confine the thread; no profile\n");
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE)) {
		next.tv_nsec += VM_PROFILE_PERIOD_US * 1000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		for (i = 0; i < vm->ncpus; i++)
			if (vm->vcpu[i].started)
				pthread_kill(vm->vcpu[i].thread, VCPU_KICK_SIGNAL);
	}
	return NULL;
}

void vm_write_profile(struct vm *vm)
{
	char buf[8192];
	size_t off = 0;
	unsigned int i;
	uint32_t k;
	bool ok = true;

	if (!vm->profiling)
		return;
	for (i = 0; i < vm->ncpus && ok; i++) {
		for (k = 0; k < vm->vcpu[i].nsamples && ok; k++) {
			const struct vm_sample *s = &vm->vcpu[i].samples[k];

			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "vcpu%u %#llx %llu\n", i,
						(unsigned long long)s->rip,
						(unsigned long long)(s->ns - vm->profile_t0) / 1000);
			if (off > sizeof(buf) - 64) {
				ok = write(vm->profile_fd, buf, off) == (ssize_t)off;
				off = 0;
			}
		}
		if (vm->vcpu[i].nsamples >= VM_PROFILE_MAX_SAMPLES)
			vlog("vcpu%u: profile full after %u samples\n", i, VM_PROFILE_MAX_SAMPLES);
	}
	if (ok && off)
		ok = write(vm->profile_fd, buf, off) == (ssize_t)off;
	if (!ok)
		vlog("--profile: write: %s\n", strerror(errno));
	for (i = 0; i < vm->ncpus; i++)
		vlog_debug("vcpu%u: %u profile samples\n", i, vm->vcpu[i].nsamples);
}

static void kick_handler(int sig)
{
	(void)sig;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	struct kvm_run *run = v->run;
	char name[16];
	sigset_t set;
	unsigned int i;

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (vmm_seccomp_install(SECCOMP_ROLE_VCPU)) {
		vm_request_stop(vm, AVF_STOP_INFRASTRUCTURE_ERROR);
		return NULL;
	}

	if (v->id == 0)
		vlog_stamp(VTS_KVM_RUN);
	while (!__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				const char *why = __atomic_exchange_n(&v->report, NULL,
								      __ATOMIC_ACQ_REL);

				if (why)
					log_report(v, why);
				vcpu_sample(v);
				continue;
			}
			vlog("vcpu%u: KVM_RUN: %s\n", v->id, strerror(errno));
			vm_request_stop(vm, AVF_STOP_INFRASTRUCTURE_ERROR);
			break;
		}
		__atomic_fetch_add(&v->exits, 1, __ATOMIC_RELAXED);
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *p = (uint8_t *)run + run->io.data_offset;

			bool reset = false;

			for (i = 0; i < run->io.count; i++, p += run->io.size)
				reset |= pio(vm, run->io.port, p, run->io.size,
					     run->io.direction == KVM_EXIT_IO_OUT);
			if (reset) {
				vlog("vcpu%u: reset request (port %#x): guest restart "
				     "(reboot or panic)\n", v->id, RESET_CONTROL_PORT);
				vm_request_stop(vm, VM_STOP_GUEST_RESET);
				return NULL;
			}
			break;
		}
		case KVM_EXIT_MMIO:
			mmio(vm, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
			     run->mmio.is_write);
			break;
		case KVM_EXIT_SHUTDOWN:
			log_shutdown(v, "KVM_EXIT_SHUTDOWN");
			vm_request_stop(vm, VM_STOP_GUEST_RESET);
			return NULL;
		case KVM_EXIT_SYSTEM_EVENT:
			vlog("vcpu%u: KVM_EXIT_SYSTEM_EVENT type %u\n", v->id,
			     run->system_event.type);
			vm_request_stop(vm, VM_STOP_GUEST_RESET);
			return NULL;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel LAPIC; keep going. */
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_FAIL_ENTRY:
			vlog("vcpu%u: entry failed: %#llx\n", v->id,
			     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			vm_request_stop(vm, AVF_STOP_CRASH);
			return NULL;
		case KVM_EXIT_INTERNAL_ERROR:
			vlog("vcpu%u: KVM internal error, suberror %u\n", v->id,
			     run->internal.suberror);
			vm_request_stop(vm, AVF_STOP_CRASH);
			return NULL;
		default:
			vlog("vcpu%u: unhandled exit %u\n", v->id, run->exit_reason);
			vm_request_stop(vm, AVF_STOP_CRASH);
			return NULL;
		}
	}
	log_hang(v);
	return NULL;
}

int vm_start(struct vm *vm)
{
	struct sigaction sa;
	unsigned int i;
	int ret;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;	/* no SA_RESTART: KVM_RUN returns EINTR */
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);

	ret = devloop_start(&vm->devloop);
	if (ret)
		return ret;
	for (i = 0; i < vm->ncpus && vm->profiling; i++) {
		vm->vcpu[i].samples = calloc(VM_PROFILE_MAX_SAMPLES, sizeof(struct vm_sample));
		if (!vm->vcpu[i].samples)
			return -ENOMEM;
	}
	if (vm->profiling)
		vm->profile_t0 = vlog_now_ns();
	for (i = 0; i < vm->ncpus; i++) {
		ret = pthread_create(&vm->vcpu[i].thread, NULL, vcpu_thread, &vm->vcpu[i]);
		if (ret)
			return -ret;
		vm->vcpu[i].started = true;
	}
	if (vm->profiling) {
		ret = pthread_create(&vm->sampler, NULL, sampler_thread, vm);
		if (ret)
			return -ret;
		vm->sampler_started = true;
	}
	return 0;
}

void vm_request_stop(struct vm *vm, int reason)
{
	int expected = VM_STOP_NONE;
	uint64_t one = 1;

	if (__atomic_compare_exchange_n(&vm->stop_reason, &expected, reason, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) &&
	    write(vm->stop_fd, &one, sizeof(one)) < 0)
		vlog("stop request: %s\n", strerror(errno));
}

void vm_stop_vcpus(struct vm *vm)
{
	unsigned int i;

	__atomic_store_n(&vm->stopping, true, __ATOMIC_RELEASE);
	/* The sampler signals vCPU threads: it ends before they are joined (freed). */
	if (vm->sampler_started) {
		pthread_join(vm->sampler, NULL);
		vm->sampler_started = false;
	}
	for (i = 0; i < vm->ncpus; i++) {
		if (!vm->vcpu[i].started)
			continue;
		vm->vcpu[i].run->immediate_exit = 1;
		pthread_kill(vm->vcpu[i].thread, VCPU_KICK_SIGNAL);
	}
	for (i = 0; i < vm->ncpus; i++) {
		if (!vm->vcpu[i].started)
			continue;
		pthread_join(vm->vcpu[i].thread, NULL);
		vm->vcpu[i].started = false;
	}
}
