// SPDX-License-Identifier: GPL-2.0
/*
 * One run of a VM: bind to the instance, build the guest, supervise it
 * from the main thread (signals, hang-up timer, stop requests) and report
 * exactly one STOPPED before exiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <linux/avf.h>

#include "acpi.h"
#include "boot.h"
#include "newc.h"
#include "vmcfg.h"
#include "hostvirt.h"
#include "limits.h"
#include "log.h"
#include "seccomp.h"
#include "startup.h"
#include "vm.h"
#include "vmm.h"

#define BASE_CMDLINE	"console=hvc0 panic=-1 reboot=p quiet " \
			"pci=off i8042.noaux i8042.nokbd i8042.nopnp"
/* --debug full: early boot messages on the UART (the console fd too) */
#define DEBUG_CMDLINE	"8250.nr_uarts=1 earlycon=uart8250,io,0x3f8"
/* Otherwise the 8250 driver registers and probes no port at all. */
#define NODEBUG_CMDLINE	"8250.nr_uarts=0"
#define FINAL_SYNC_MS	1000

/* A boot image mapped read-only from the fd it is booted from. */
struct mapped_file {
	int fd;			/* not owned */
	uint8_t *data;
	size_t len;
};

static int map_fd(int fd, struct mapped_file *f)
{
	struct stat st;

	f->fd = fd;
	f->data = NULL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		return -EINVAL;
	f->len = (size_t)st.st_size;
	f->data = mmap(NULL, f->len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f->data == MAP_FAILED) {
		f->data = NULL;
		return -errno;
	}
	return 0;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->data)
		munmap(f->data, f->len);
	f->data = NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * --standalone only (development, never set-uid): open the paths given on
 * the command line, so that everything after this works on fds alone.
 */
static int open_standalone(struct vmm_opts *o)
{
	unsigned int i;

	for (i = FD_KERNEL; i < FD_COUNT; i++) {
		const char *path = o->path[i];
		int fd;

		if (!path)
			continue;
		if (i == FD_CONSOLE || i == FD_LOG || i == FD_PROFILE) {
			if (!strcmp(path, "-"))
				fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
			else
				fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY |
					  (i == FD_PROFILE ? O_TRUNC : O_APPEND), 0600);
		} else {
			fd = open(path, (i == FD_STORAGE ? O_RDWR : O_RDONLY) | O_CLOEXEC |
				  O_NOCTTY);
		}
		if (fd < 0) {
			vlog("%s %s: %s\n", cli_path_option(i), path, strerror(errno));
			return EXIT_VMM_USAGE;
		}
		o->fd[i] = fd;
		o->path[i] = NULL;
	}
	return 0;
}

/* Binding to the instance; returns the VMM fd, or -errno. Closes the VM fd. */
static int bind_instance(int vm_fd, uint32_t *cid)
{
	struct avf_vm_bind bind;
	int ret;

	memset(&bind, 0, sizeof(bind));
	ret = ioctl(vm_fd, AVF_VM_BIND_VMM, &bind);
	if (ret < 0) {
		ret = -errno;
		if (errno == EPERM)
			vlog("AVF_VM_BIND_VMM refused (EPERM): this avf-vmm does not run as the "
			     "trusted VMM user (it must be installed set-uid to the module's "
			     "vmm_uid and not be traced)\n");
		else if (errno == EUSERS)
			vlog("AVF_VM_BIND_VMM: the owner runs the most VMs allowed at once\n");
		else
			vlog("AVF_VM_BIND_VMM: %s\n", strerror(errno));
	} else {
		*cid = bind.cid;
	}
	close(vm_fd);	/* the VMM fd keeps the instance */
	return ret;
}

static int build_cmdline(const struct vmm_opts *o, const struct vm *vm, char *buf)
{
	char mmio[512];
	int n;

	if (vm_mmio_cmdline(vm, mmio, sizeof(mmio)))
		return -ENOSPC;
	/*
	 * A debuggable VM also gets the guest kernel's messages from before
	 * hvc0 exists (a crash or warning in early boot) on its console,
	 * through the UART, as Microdroid's debug level FULL does.
	 */
	n = snprintf(buf, CMDLINE_MAX, "%s%s %s%s%s", BASE_CMDLINE,
		     o->debug_full ? " " DEBUG_CMDLINE : " " NODEBUG_CMDLINE, mmio, o->cmdline ? " " : "",
		     o->cmdline ? o->cmdline : "");
	if (n < 0 || n >= CMDLINE_MAX)
		return -ENOSPC;
	return 0;
}

/* The initramfs plus a second archive holding avf/config.dtb, at the top of RAM. */
static int load_initrd(struct vm *vm, const struct vmm_opts *o, uint32_t cid,
		       bool with_secret, const struct mapped_file *initrd, uint64_t kernel_end,
		       uint64_t *gpa, uint64_t *len, uint64_t *secret_gpa)
{
	static const uint8_t no_secret[AVF_SECRET_SIZE];
	struct avf_vmcfg cfg = {
		.debug_level = o->debug_full ? 1 : 0,
		.protected_vm = 0,
		.cid = cid,
		.memory_mib = o->mem_mib,
		.cpus = o->cpus,
		.storage = o->fd[FD_STORAGE] >= 0 ? 1 : 0,
		.new_instance_set = true,
		.new_instance = o->new_instance ? 1 : 0,
	};
	uint8_t dtb[AVF_VMCFG_BUILD_MAX];
	/* inode numbers clear of the first archive's */
	struct avf_newc cpio = { .ino = 0x41560000 };
	uint64_t first, total, at;
	size_t secret_off = 0;
	int ret, dtb_len;

	if (strlen(o->payload) >= sizeof(cfg.payload_name))
		return -ENAMETOOLONG;
	memcpy(cfg.payload_name, o->payload, strlen(o->payload) + 1);
	dtb_len = avf_vmcfg_build(&cfg, dtb, sizeof(dtb));
	if (dtb_len < 0)
		return dtb_len;
	ret = avf_newc_add(&cpio, AVF_VMCFG_NODE, 040755, NULL, 0);
	ret = ret ?: avf_newc_add(&cpio, AVF_VMCFG_PATH, 0100444, dtb, (size_t)dtb_len);
	if (!ret && with_secret) {
		/* 32 zero bytes the module overwrites with the VM secret. */
		ret = avf_newc_add_at(&cpio, AVF_VMCFG_SECRET_PATH, 0100400, no_secret,
				      sizeof(no_secret), &secret_off);
	}
	ret = ret ?: avf_newc_finish(&cpio);
	if (ret)
		goto out;

	first = (initrd->len + 3) & ~3ULL;	/* archives start 4-byte aligned */
	/* The secret must be 8-byte aligned in guest memory (at is page aligned). */
	if (with_secret && ((first + secret_off) & 7))
		first += 4;
	total = first + cpio.len;
	if (total > vm->mem.size - kernel_end) {
		ret = -ENOMEM;
		goto out;
	}
	at = (vm->mem.size - total) & ~0xfffULL;
	if (at < kernel_end) {
		vlog("initrd (%llu bytes) does not fit above the kernel; use more --mem\n",
		     (unsigned long long)total);
		ret = -ENOMEM;
		goto out;
	}
	ret = gmem_write(&vm->mem, at, initrd->data, initrd->len);
	if (!ret)
		memset(gmem_ptr(&vm->mem, at + initrd->len, first - initrd->len), 0,
		       first - initrd->len);
	ret = ret ?: gmem_write(&vm->mem, at + first, cpio.buf, cpio.len);
	*gpa = at;
	*len = total;
	*secret_gpa = with_secret ? at + first + secret_off : 0;
out:
	avf_newc_free(&cpio);
	return ret;
}

/* The module's verdict on an identity ioctl -> the stop reason to report. */
static int32_t identity_reason(struct lifecycle *lc, const char *what, int err)
{
	char msg[AVF_MESSAGE_MAX];

	switch (err) {
	case EKEYREJECTED:	/* the module queued ERROR(PAYLOAD_CHANGED) */
		return AVF_STOP_MICRODROID_PAYLOAD_HAS_CHANGED;
	case EBADMSG:
	case EPROTONOSUPPORT:	/* the module queued ERROR(VERIFICATION_FAILED) */
		return AVF_STOP_MICRODROID_PAYLOAD_VERIFICATION_FAILED;
	default:
		snprintf(msg, sizeof(msg), "%s failed: %s", what, strerror(err));
		lifecycle_error(lc, AVF_ERROR_UNKNOWN, msg);
		return AVF_STOP_START_FAILED;
	}
}

/*
 * Identity (Documentation/vmm.rst): the module measures the owner's images
 * while copying them into sealed private files, checks them, the payload
 * name, the command line and the debug level against the sealed state, and
 * returns read-only fds of what it measured. The guest is built from those
 * fds only. On failure *reason is the stop reason to report.
 */
static int load_identity(const struct vmm_opts *o, struct lifecycle *lc, const uint8_t *state,
			 int boot[3], int32_t *reason)
{
	struct avf_vmm_load ld;
	int ret;

	memset(&ld, 0, sizeof(ld));
	ld.images.kernel_fd = o->fd[FD_KERNEL];
	ld.images.initrd_fd = o->fd[FD_INITRD];
	ld.images.package_fd = o->fd[FD_PACKAGE];
	ld.images.debug_level = o->debug_full ? AVF_DEBUG_FULL : AVF_DEBUG_NONE;
	ld.images.protected_vm = 0;
	ld.images.payload_name = (uintptr_t)o->payload;
	ld.images.cmdline = o->cmdline ? (uintptr_t)o->cmdline : 0;
	ld.state = (uintptr_t)state;
	ld.state_size = AVF_INSTANCE_STATE_SIZE;
	vlog_stamp(VTS_LOAD0);
	ret = ioctl(lc->vmm_fd, AVF_VMM_LOAD, &ld);
	vlog_stamp(VTS_LOAD1);
	if (ret < 0) {
		ret = -errno;
		vlog("AVF_VMM_LOAD: the instance refused this run: %s\n", strerror(errno));
		*reason = identity_reason(lc, "AVF_VMM_LOAD", errno);
		return ret;
	}
	boot[0] = ld.kernel_fd;
	boot[1] = ld.initrd_fd;
	boot[2] = ld.package_fd;
	if (ld.kernel_fd < 0 || ld.initrd_fd < 0 || ld.package_fd < 0) {
		vlog("AVF_VMM_LOAD returned no image fds\n");
		*reason = identity_reason(lc, "AVF_VMM_LOAD", EPROTO);
		return -EPROTO;
	}
	return 0;
}

/* Hand the VM secret to the guest: the module writes it into guest RAM. */
static int start_secret(struct vm *vm, struct lifecycle *lc, uint64_t secret_gpa,
			int32_t *reason)
{
	struct avf_vmm_start st;
	int ret;

	memset(&st, 0, sizeof(st));
	st.mem_fd = vm->mem.memfd;
	st.secret_offset = secret_gpa;
	vlog_stamp(VTS_START0);
	ret = ioctl(lc->vmm_fd, AVF_VMM_START, &st);
	vlog_stamp(VTS_START1);
	if (ret == 0)
		return 0;
	ret = -errno;
	vlog("AVF_VMM_START: %s\n", strerror(errno));
	*reason = identity_reason(lc, "AVF_VMM_START", errno);
	return ret;
}

struct setup {
	int kvm_fd;		/* owned until vm_create() */
	enum host_virt host_virt;	/* host_virt_detect(), once per run */
	int listen_fd;		/* --vsock-uds (standalone), or -1 */
};

/*
 * Build the guest from @o's fds (bound: the fds AVF_VMM_LOAD returned;
 * standalone: the given ones); on failure *reason is the stop reason to
 * report. Consumes every fd of @o.
 */
static int setup_guest(struct vm *vm, struct vmm_opts *o, uint32_t cid, struct lifecycle *lc,
		       struct setup *su, int32_t *reason)
{
	struct mapped_file kernel = { .fd = -1 }, initrd = { .fd = -1 };
	uint64_t entry, kernel_start, kernel_end, initrd_gpa, initrd_len, start_info, secret_gpa;
	uint64_t rsdp = 0;
	uint8_t state[AVF_INSTANCE_STATE_SIZE];
	bool bound = lc->vmm_fd >= 0, with_secret = o->fd[FD_INSTANCE] >= 0;
	char cmdline[CMDLINE_MAX];
	int boot[3] = { -1, -1, -1 }, ret, i;
	struct gpa_range plan[BOOT_PREFAULT_MAX];
	uint64_t prefaulted = 0;
	size_t nplan, k;
	ssize_t n;

	*reason = AVF_STOP_START_FAILED;
	memset(state, 0, sizeof(state));
	if (with_secret) {
		/* A short state goes to the module zero-padded: it rejects it. */
		n = pread(o->fd[FD_INSTANCE], state, sizeof(state), 0);
		if (n < 0) {
			ret = -errno;
			vlog("--instance-fd: %s\n", strerror(errno));
			lifecycle_error(lc, AVF_ERROR_UNKNOWN, "cannot read the instance state");
			goto out;
		}
		close_fd(&o->fd[FD_INSTANCE]);
	}
	if (bound) {
		ret = load_identity(o, lc, state, boot, reason);
		/* The owner's images are not used again, whatever LOAD said. */
		close_fd(&o->fd[FD_KERNEL]);
		close_fd(&o->fd[FD_INITRD]);
		close_fd(&o->fd[FD_PACKAGE]);
		if (ret)
			goto out;
		*reason = AVF_STOP_START_FAILED;
	} else {
		if (with_secret)
			vlog("--standalone: instance identity not checked, no VM secret\n");
		boot[0] = o->fd[FD_KERNEL];
		boot[1] = o->fd[FD_INITRD];
		boot[2] = o->fd[FD_PACKAGE];
		o->fd[FD_KERNEL] = o->fd[FD_INITRD] = o->fd[FD_PACKAGE] = -1;
	}

	ret = map_fd(boot[0], &kernel);
	if (ret) {
		vlog("kernel image: %s\n", strerror(-ret));
		goto out;
	}
	ret = map_fd(boot[1], &initrd);
	if (ret) {
		vlog("initramfs image: %s\n", strerror(-ret));
		goto out;
	}
	ret = vm_create(vm, su->kvm_fd, (uint64_t)o->mem_mib << 20, o->cpus);
	su->kvm_fd = -1;
	if (ret) {
		vlog("creating the KVM VM: %s\n", strerror(-ret));
		goto out;
	}
	vm->host_virt = su->host_virt;
	vm->debug_full = o->debug_full;
	if (o->fd[FD_PROFILE] >= 0) {
		vm->profile_fd = o->fd[FD_PROFILE];
		o->fd[FD_PROFILE] = -1;
		vm->profiling = true;
	}
	ret = elf_load_pvh(&vm->mem, kernel.data, kernel.len, &entry, &kernel_start, &kernel_end);
	if (ret) {
		vlog("loading the kernel: %s\n", strerror(-ret));
		goto out;
	}
	ret = load_initrd(vm, o, cid, with_secret, &initrd, kernel_end, &initrd_gpa, &initrd_len,
			  &secret_gpa);
	if (ret) {
		vlog("loading the initramfs: %s\n", strerror(-ret));
		goto out;
	}

	ret = vm_add_devices(vm, boot[2], o->fd[FD_STORAGE], cid, o->fd[FD_CONSOLE],
			     o->fd[FD_LOG]);
	boot[2] = o->fd[FD_STORAGE] = -1;	/* owned by the devices now */
	o->fd[FD_CONSOLE] = o->fd[FD_LOG] = -1;
	if (ret) {
		vlog("creating devices: %s\n", strerror(-ret));
		goto out;
	}
	if (su->listen_fd >= 0) {
		ret = vsock_dev_listen_fd(&vm->vsock, su->listen_fd);
		if (ret) {
			vlog("--vsock-uds: %s\n", strerror(-ret));
			goto out;
		}
		su->listen_fd = -1;
	}
	ret = build_cmdline(o, vm, cmdline);
	ret = ret ?: gmem_write(&vm->mem, GPA_CMDLINE, cmdline, strlen(cmdline) + 1);
	ret = ret ?: acpi_write(&vm->mem, o->cpus, &rsdp);
	ret = ret ?: pvh_write_start_info(&vm->mem, GPA_CMDLINE, initrd_gpa, initrd_len, rsdp,
					  &start_info);
	ret = ret ?: mptable_write(&vm->mem, o->cpus);
	ret = ret ?: vm_setup_vcpus(vm, entry, start_info);
	if (ret) {
		vlog("preparing boot: %s\n", strerror(-ret));
		goto out;
	}
	/*
	 * The guest reads all of its kernel and initramfs early and writes the
	 * same few MiB in every boot: one NPT/EPT exit per 4 KiB page otherwise
	 * (~7,000 of a hello boot's stage-2 faults; Documentation/vmm.rst,
	 * "Boot cost").
	 */
	nplan = boot_prefault_plan(vm->mem.size, kernel_start, kernel_end, initrd_gpa, initrd_len,
				   plan);
	for (k = 0; k < nplan; k++)
		prefaulted += vm_prefault(vm, plan[k].gpa, plan[k].len);
	vlog_debug("prefaulted %llu KiB of guest RAM\n", (unsigned long long)prefaulted >> 10);
	vlog_debug("entry %#llx, kernel end %#llx, initrd %#llx+%llu, cmdline: %s\n",
		   (unsigned long long)entry, (unsigned long long)kernel_end,
		   (unsigned long long)initrd_gpa, (unsigned long long)initrd_len, cmdline);
	/* The secret goes in last, before any vCPU runs. */
	if (bound)
		ret = start_secret(vm, lc, secret_gpa, reason);
out:
	explicit_bzero(state, sizeof(state));
	unmap_file(&kernel);
	unmap_file(&initrd);
	for (i = 0; i < 3; i++)
		close_fd(&boot[i]);
	for (i = 0; i < FD_COUNT; i++)
		close_fd(&o->fd[i]);
	return ret;
}

static void drain_fd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		vlog_debug("read: %s\n", strerror(errno));
}

/* The run's counters as the owner sees them (struct avf_vm_info). */
static void report_stats(struct vm *vm, struct lifecycle *lc)
{
	lifecycle_set_stats(lc, vsock_refused_count(&vm->vsock),
			    __atomic_load_n(&vm->console_out.dropped, __ATOMIC_RELAXED));
}

/* Main thread: wait for the reason this run ends. */
static int supervise(struct vm *vm, struct lifecycle *lc, int sig_fd, int wake_fd,
		     uint32_t hangup_s)
{
	struct itimerspec its = { .it_value = { .tv_sec = hangup_s } };
	struct itimerspec every = {
		.it_value = { .tv_nsec = STATS_PERIOD_MS * 1000000L },
		.it_interval = { .tv_nsec = STATS_PERIOD_MS * 1000000L },
	};
	struct pollfd pfd[5];
	int timer_fd = -1, stats_fd, reason = VM_STOP_NONE;

	if (hangup_s) {
		timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (timer_fd < 0 || timerfd_settime(timer_fd, 0, &its, NULL) < 0)
			return AVF_STOP_INFRASTRUCTURE_ERROR;
	}
	pfd[0] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = vm->stop_fd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
	pfd[3] = (struct pollfd){ .fd = timer_fd, .events = POLLIN };
	/* The owner's view of the run's counters (VM info), refreshed while it runs. */
	stats_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (stats_fd >= 0 && timerfd_settime(stats_fd, 0, &every, NULL) < 0) {
		close(stats_fd);
		stats_fd = -1;
	}
	pfd[4] = (struct pollfd){ .fd = stats_fd, .events = POLLIN };

	while (reason == VM_STOP_NONE) {
		if (poll(pfd, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			reason = AVF_STOP_INFRASTRUCTURE_ERROR;
			break;
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				vlog_debug("signal %u: stopping\n", si.ssi_signo);
			reason = AVF_STOP_KILLED;
		} else if (pfd[1].revents) {
			drain_fd(vm->stop_fd);
			reason = __atomic_load_n(&vm->stop_reason, __ATOMIC_SEQ_CST);
		} else if (pfd[2].revents) {
			drain_fd(wake_fd);
			if (timer_fd >= 0 && lifecycle_started(lc)) {
				close(timer_fd);
				timer_fd = -1;
				pfd[3].fd = -1;
			}
		} else if (pfd[3].revents) {
			drain_fd(timer_fd);
			if (!lifecycle_started(lc)) {
				vlog("payload not started within %u s: hang-up\n", hangup_s);
				reason = AVF_STOP_HANGUP;
			}
		} else if (pfd[4].revents) {
			drain_fd(stats_fd);
			report_stats(vm, lc);
		}
	}
	if (timer_fd >= 0)
		close(timer_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	if (reason == VM_STOP_GUEST_RESET) {
		/* Let the device thread consume control lines written before the reset. */
		devloop_sync(&vm->devloop, FINAL_SYNC_MS);
		reason = lifecycle_reset_reason(lc);
	}
	return reason;
}

static int make_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);	/* unblocked only on vCPU threads */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	sigdelset(&set, SIGUSR1);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int vmm_run(const struct vmm_opts *opts)
{
	static struct vm vm;	/* large; zero-initialized */
	struct setup su = { .kvm_fd = -1, .listen_fd = -1 };
	struct vmm_opts o = *opts;
	struct lifecycle lc;
	int vmm_fd = -1, sig_fd, wake_fd, ret, i;
	int32_t reason;
	uint32_t cid = AVF_CID_FIRST;

	vlog_verbose = o.verbose;
	su.host_virt = host_virt_detect();
	if (!o.hangup_given) {
		o.hangup_s = hangup_default_s(su.host_virt);
		vlog_debug("host virtualization: %s, hang-up (boot) timeout %u s\n",
			   host_virt_name(su.host_virt), o.hangup_s);
	}
	if (o.protected_vm) {
		vlog("--protected: no protected VM backend on this host\n");
		return EXIT_VMM_USAGE;
	}
	/* Inherited descriptors: the given ones are checked, every other one closed. */
	ret = startup_check_fds(&o);
	if (ret)
		return ret;
	ret = startup_close_fds(o.fd, FD_COUNT);
	if (ret) {
		vlog("closing inherited descriptors: %s\n", strerror(-ret));
		return EXIT_VMM_INTERNAL;
	}
	if (o.standalone) {
		ret = open_standalone(&o);
		if (ret)
			return ret;
	}
	if (!o.debug_full) {
		for (i = FD_CONSOLE; i <= FD_LOG; i++) {
			if (o.fd[i] < 0)
				continue;
			vlog("%s ignored: output is captured only with --debug full\n",
			     cli_fd_option(i));
			close_fd(&o.fd[i]);
		}
	}
	su.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (su.kvm_fd < 0) {
		vlog("/dev/kvm: %s\n", strerror(errno));
		return EXIT_VMM_UNAVAILABLE;
	}
	if (o.vsock_uds) {
		su.listen_fd = vsock_listen_socket(o.vsock_uds);
		if (su.listen_fd < 0) {
			vlog("--vsock-uds %s: %s\n", o.vsock_uds, strerror(-su.listen_fd));
			return EXIT_VMM_USAGE;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	sig_fd = make_signalfd();
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sig_fd < 0 || wake_fd < 0) {
		vlog("signalfd/eventfd: %s\n", strerror(errno));
		return EXIT_VMM_INTERNAL;
	}
	/*
	 * The base filter: before the instance state and the images are read
	 * and before any thread exists. From here on nothing is opened.
	 */
	ret = vmm_seccomp_prepare();
	ret = ret ?: vmm_seccomp_install(SECCOMP_ROLE_BASE);
	if (ret) {
		vlog("seccomp: cannot install the base filter: %s\n", strerror(-ret));
		return EXIT_VMM_INTERNAL;
	}

	if (!o.standalone) {
		vmm_fd = bind_instance(o.fd[FD_VM], &cid);
		o.fd[FD_VM] = -1;
		if (vmm_fd == -EPERM)
			return EXIT_VMM_UNAVAILABLE;
		if (vmm_fd < 0)
			return EXIT_VMM_INTERNAL;
		vlog_stamp(VTS_BOUND);
	}
	/* Bound: from here on every path reports a stop reason. */
	lifecycle_init(&lc, vmm_fd, wake_fd);
	vm.lc = &lc;
	lc.on_boot = vm_count_boot;
	lc.on_boot_arg = &vm;

	ret = setup_guest(&vm, &o, cid, &lc, &su, &reason);
	if (ret) {
		vm_destroy(&vm);
		return lifecycle_stop(&lc, reason) ? EXIT_VMM_INTERNAL : 0;
	}
	ret = vm_start(&vm);
	ret = ret ?: vmm_seccomp_install(SECCOMP_ROLE_MAIN);
	if (ret) {
		vlog("starting threads: %s\n", strerror(-ret));
		vm_destroy(&vm);
		return lifecycle_stop(&lc, AVF_STOP_INFRASTRUCTURE_ERROR) ? EXIT_VMM_INTERNAL : 0;
	}

	reason = supervise(&vm, &lc, sig_fd, wake_fd, o.hangup_s);
	if (reason == AVF_STOP_HANGUP)
		__atomic_store_n(&vm.log_state_on_stop, true, __ATOMIC_RELEASE);
	vm_stop_vcpus(&vm);
	devloop_stop(&vm.devloop);
	/* The kernel console's drop count is final from here on (exact). */
	outsink_abandon(&vm.console_out);
	report_stats(&vm, &lc);	/* final, before STOPPED */
	ret = lifecycle_stop(&lc, reason);
	/* Always in vmm.log: the drop counts are what the owner can see of them. */
	vlog("vcpu exits %llu, console %llu bytes (%llu dropped), uart %llu bytes (%llu dropped), "
		   "log %llu bytes (%llu dropped), "
		   "blk ioerrs %llu, vsock rst %llu (refused guest connections %llu, "
		   "dropped %llu, spoofed %llu)\n",
		   (unsigned long long)vm_exits(&vm),
		   (unsigned long long)vm.console_out.written,
		   (unsigned long long)vm.console_out.dropped,
		   (unsigned long long)vm.serial_out.written,
		   (unsigned long long)vm.serial_out.dropped,
		   (unsigned long long)vm.log_out.written,
		   (unsigned long long)vm.log_out.dropped,
		   (unsigned long long)vm.pkg.ioerrs, (unsigned long long)vm.vsock.rsts,
		   (unsigned long long)vsock_refused_count(&vm.vsock),
		   (unsigned long long)vm.vsock.dropped, (unsigned long long)vm.vsock.spoofed);
	vm_log_boot(&vm);
	vm_write_profile(&vm);
	vlog_stamps();
	vm_destroy(&vm);
	if (vmm_fd >= 0)
		close(vmm_fd);
	/*
	 * The run is over for the module; what the payload wrote to its log
	 * still reaches a reader that keeps reading (EOF when we exit).
	 */
	outsink_drain(&vm.log_out, LOG_FINAL_DRAIN_IDLE_MS);
	close(sig_fd);
	close(wake_fd);
	return ret ? EXIT_VMM_INTERNAL : EXIT_VMM_OK;
}
