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

#include "boot.h"
#include "newc.h"
#include "vmcfg.h"
#include "limits.h"
#include "log.h"
#include "seccomp.h"
#include "vm.h"
#include "vmm.h"

#define BASE_CMDLINE	"console=hvc0 panic=-1 reboot=t quiet " \
			"8250.nr_uarts=1 pci=off i8042.noaux i8042.nokbd i8042.nopnp"
#define FINAL_SYNC_MS	1000

/*
 * A boot image opened read-only once: the module measures this fd
 * (AVF_VMM_START) and the guest is built from this fd's mapping only.
 */
struct mapped_file {
	int fd;
	uint8_t *data;
	size_t len;
};

static int map_file(const char *path, struct mapped_file *f)
{
	struct stat st;
	int ret = 0;

	f->data = NULL;
	f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (f->fd < 0)
		return -errno;
	if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return -EINVAL;
	f->len = (size_t)st.st_size;
	f->data = mmap(NULL, f->len, PROT_READ, MAP_PRIVATE, f->fd, 0);
	if (f->data == MAP_FAILED) {
		f->data = NULL;
		ret = -errno;
	}
	return ret;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->data)
		munmap(f->data, f->len);
	if (f->fd >= 0)
		close(f->fd);
	f->data = NULL;
	f->fd = -1;
}

/* Open a capture destination; -1 when output is not captured. */
static int open_output(const char *path, bool debug_full, const char *what)
{
	int fd;

	if (!path)
		return -1;
	if (!debug_full) {
		vlog("--%s ignored: output is captured only with --debug full\n", what);
		return -1;
	}
	if (!strcmp(path, "-"))
		return fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		vlog("--%s %s: %s\n", what, path, strerror(errno));
	return fd;
}

/* Binding to the instance; returns the VMM fd, or -errno. */
static int bind_instance(const struct vmm_opts *o, uint32_t *cid)
{
	struct avf_vm_bind bind;
	int vm_fd = o->vm_fd, ret;

	if (vm_fd < 0) {
		struct avf_vm_open op;
		int dev = open("/dev/avf", O_RDWR | O_CLOEXEC);

		if (dev < 0)
			return -ENODEV;
		memset(&op, 0, sizeof(op));
		op.flags = AVF_OPEN_CREATE;
		strncpy(op.name, o->name, sizeof(op.name) - 1);
		vm_fd = ioctl(dev, AVF_VM_OPEN, &op);
		ret = -errno;
		close(dev);
		if (vm_fd < 0) {
			vlog("AVF_VM_OPEN %s: %s\n", o->name, strerror(-ret));
			return ret == -ENOENT ? -ENODEV : ret;
		}
	}
	memset(&bind, 0, sizeof(bind));
	ret = ioctl(vm_fd, AVF_VM_BIND_VMM, &bind);
	if (ret < 0) {
		ret = -errno;
		vlog("AVF_VM_BIND_VMM: %s\n", strerror(errno));
	} else {
		*cid = bind.cid;
	}
	if (o->vm_fd < 0 || ret >= 0)
		close(vm_fd);	/* the VMM fd keeps the instance */
	return ret;
}

static int build_cmdline(const struct vmm_opts *o, const struct vm *vm, char *buf)
{
	char mmio[512];
	int n;

	if (vm_mmio_cmdline(vm, mmio, sizeof(mmio)))
		return -ENOSPC;
	n = snprintf(buf, CMDLINE_MAX, "%s %s%s%s", BASE_CMDLINE, mmio, o->cmdline ? " " : "",
		     o->cmdline ? o->cmdline : "");
	if (n < 0 || n >= CMDLINE_MAX)
		return -ENOSPC;
	return 0;
}

/* The initramfs plus a second archive holding avf/config.dtb, at the top of RAM. */
static int load_initrd(struct vm *vm, const struct vmm_opts *o, uint32_t cid,
		       const struct mapped_file *initrd, uint64_t kernel_end,
		       uint64_t *gpa, uint64_t *len, uint64_t *secret_gpa)
{
	static const uint8_t no_secret[AVF_SECRET_SIZE];
	struct avf_vmcfg cfg = {
		.debug_level = o->debug_full ? 1 : 0,
		.protected_vm = 0,
		.cid = cid,
		.memory_mib = o->mem_mib,
		.cpus = o->cpus,
		.storage = o->storage ? 1 : 0,
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
	if (!ret && o->instance) {
		/* 32 zero bytes the module overwrites with the VM secret. */
		ret = avf_newc_add_at(&cpio, AVF_VMCFG_SECRET_PATH, 0100400, no_secret,
				      sizeof(no_secret),
				  &secret_off);
	}
	ret = ret ?: avf_newc_finish(&cpio);
	if (ret)
		goto out;

	first = (initrd->len + 3) & ~3ULL;	/* archives start 4-byte aligned */
	/* The secret must be 8-byte aligned in guest memory (at is page aligned). */
	if (o->instance && ((first + secret_off) & 7))
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
	*secret_gpa = o->instance ? at + first + secret_off : 0;
out:
	avf_newc_free(&cpio);
	return ret;
}

/*
 * Identity (Documentation/interfaces.rst, identity and secrets): the module
 * measures the very fds the guest was built from, checks them against the
 * sealed instance state and writes the VM secret into guest RAM at
 * @secret_gpa. On failure *reason is the stop reason to report.
 */
static int start_identity(struct vm *vm, const struct vmm_opts *o, struct lifecycle *lc,
			  int kernel_fd, int initrd_fd, int pkg_fd, uint64_t secret_gpa,
			  int32_t *reason)
{
	uint8_t state[AVF_INSTANCE_STATE_SIZE];
	char msg[AVF_MESSAGE_MAX];
	struct avf_vmm_start st;
	ssize_t n;
	int fd, ret = 0;

	memset(state, 0, sizeof(state));
	fd = open(o->instance, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	n = fd < 0 ? -1 : read(fd, state, sizeof(state));
	if (n < 0) {
		ret = -errno;
		vlog("--instance %s: %s\n", o->instance, strerror(errno));
		lifecycle_error(lc, AVF_ERROR_UNKNOWN, "cannot read the instance state");
		goto out;
	}
	/* A short file goes to the module as is (zero-padded): it rejects it. */
	if (lc->vmm_fd < 0) {
		vlog("--standalone: instance identity not checked, no VM secret\n");
		goto out;
	}
	memset(&st, 0, sizeof(st));
	st.images.kernel_fd = kernel_fd;
	st.images.initrd_fd = initrd_fd;
	st.images.package_fd = pkg_fd;
	st.images.debug_level = o->debug_full ? AVF_DEBUG_FULL : AVF_DEBUG_NONE;
	st.images.protected_vm = 0;
	st.state = (uintptr_t)state;
	st.state_size = AVF_INSTANCE_STATE_SIZE;
	st.mem_fd = vm->mem.memfd;
	st.secret_offset = secret_gpa;
	if (ioctl(lc->vmm_fd, AVF_VMM_START, &st) == 0)
		goto out;
	ret = -errno;
	switch (errno) {
	case EKEYREJECTED:	/* the module queued ERROR(PAYLOAD_CHANGED) */
		*reason = AVF_STOP_MICRODROID_PAYLOAD_HAS_CHANGED;
		break;
	case EBADMSG:
	case EPROTONOSUPPORT:	/* the module queued ERROR(VERIFICATION_FAILED) */
		*reason = AVF_STOP_MICRODROID_PAYLOAD_VERIFICATION_FAILED;
		break;
	default:
		snprintf(msg, sizeof(msg), "AVF_VMM_START failed: %s", strerror(errno));
		lifecycle_error(lc, AVF_ERROR_UNKNOWN, msg);
		*reason = AVF_STOP_START_FAILED;
		break;
	}
	vlog("instance %s refused: %s\n", o->instance, strerror(-ret));
out:
	if (fd >= 0)
		close(fd);
	explicit_bzero(state, sizeof(state));
	return ret;
}

/* Build the guest; on failure *reason is the stop reason to report. */
static int setup_guest(struct vm *vm, const struct vmm_opts *o, uint32_t cid,
		       struct lifecycle *lc, int32_t *reason)
{
	struct mapped_file kernel = { .fd = -1 }, initrd = { .fd = -1 };
	uint64_t entry, kernel_end, initrd_gpa, initrd_len, start_info, secret_gpa;
	char cmdline[CMDLINE_MAX];
	int pkg_fd = -1, storage_fd = -1, console_fd, log_fd, ret;

	*reason = AVF_STOP_START_FAILED;
	/* Each image is opened once; everything below uses only these fds. */
	ret = map_file(o->kernel, &kernel);
	if (ret) {
		vlog("--kernel %s: %s\n", o->kernel, strerror(-ret));
		goto out;
	}
	ret = map_file(o->initrd, &initrd);
	if (ret) {
		vlog("--initrd %s: %s\n", o->initrd, strerror(-ret));
		goto out;
	}
	pkg_fd = open(o->package, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (pkg_fd < 0) {
		ret = -errno;
		vlog("--package %s: %s\n", o->package, strerror(errno));
		goto out;
	}
	if (o->storage) {
		storage_fd = open(o->storage, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (storage_fd < 0) {
			ret = -errno;
			vlog("--storage %s: %s\n", o->storage, strerror(errno));
			goto out;
		}
	}

	ret = vm_create(vm, (uint64_t)o->mem_mib << 20, o->cpus);
	if (ret) {
		vlog("creating the KVM VM: %s\n", strerror(-ret));
		goto out;
	}
	ret = elf_load_pvh(&vm->mem, kernel.data, kernel.len, &entry, &kernel_end);
	if (ret) {
		vlog("loading %s: %s\n", o->kernel, strerror(-ret));
		goto out;
	}
	ret = load_initrd(vm, o, cid, &initrd, kernel_end, &initrd_gpa, &initrd_len, &secret_gpa);
	if (ret) {
		vlog("loading %s: %s\n", o->initrd, strerror(-ret));
		goto out;
	}

	console_fd = open_output(o->console, o->debug_full, "console");
	log_fd = open_output(o->log, o->debug_full, "log");
	ret = vm_add_devices(vm, pkg_fd, storage_fd, cid, console_fd, log_fd);
	pkg_fd = storage_fd = -1;	/* owned by the devices now */
	if (ret) {
		vlog("creating devices: %s\n", strerror(-ret));
		goto out;
	}
	if (o->vsock_uds) {
		ret = vsock_dev_listen(&vm->vsock, o->vsock_uds);
		if (ret) {
			vlog("--vsock-uds %s: %s\n", o->vsock_uds, strerror(-ret));
			goto out;
		}
	}
	ret = build_cmdline(o, vm, cmdline);
	ret = ret ?: gmem_write(&vm->mem, GPA_CMDLINE, cmdline, strlen(cmdline) + 1);
	ret = ret ?: pvh_write_start_info(&vm->mem, GPA_CMDLINE, initrd_gpa, initrd_len,
					  &start_info);
	ret = ret ?: mptable_write(&vm->mem, o->cpus);
	ret = ret ?: vm_setup_vcpus(vm, entry, start_info);
	if (ret) {
		vlog("preparing boot: %s\n", strerror(-ret));
		goto out;
	}
	vlog_debug("entry %#llx, kernel end %#llx, initrd %#llx+%llu, cmdline: %s\n",
		   (unsigned long long)entry, (unsigned long long)kernel_end,
		   (unsigned long long)initrd_gpa, (unsigned long long)initrd_len, cmdline);
	if (o->instance)
		ret = start_identity(vm, o, lc, kernel.fd, initrd.fd, vm->pkg.fd, secret_gpa,
				     reason);
out:
	if (pkg_fd >= 0)
		close(pkg_fd);
	if (storage_fd >= 0)
		close(storage_fd);
	unmap_file(&kernel);
	unmap_file(&initrd);
	return ret;
}

static void drain_fd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		vlog_debug("read: %s\n", strerror(errno));
}

/* Main thread: wait for the reason this run ends. */
static int supervise(struct vm *vm, struct lifecycle *lc, int sig_fd, int wake_fd,
		     uint32_t hangup_s)
{
	struct itimerspec its = { .it_value = { .tv_sec = hangup_s } };
	struct pollfd pfd[4];
	int timer_fd = -1, reason = VM_STOP_NONE;

	if (hangup_s) {
		timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (timer_fd < 0 || timerfd_settime(timer_fd, 0, &its, NULL) < 0)
			return AVF_STOP_INFRASTRUCTURE_ERROR;
	}
	pfd[0] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = vm->stop_fd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
	pfd[3] = (struct pollfd){ .fd = timer_fd, .events = POLLIN };

	while (reason == VM_STOP_NONE) {
		if (poll(pfd, 4, -1) < 0) {
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
			if (timer_fd >= 0 && lifecycle_progressed(lc)) {
				close(timer_fd);
				timer_fd = -1;
				pfd[3].fd = -1;
			}
		} else if (pfd[3].revents) {
			drain_fd(timer_fd);
			if (!lifecycle_progressed(lc)) {
				vlog("payload not ready within %u s: hang-up\n", hangup_s);
				reason = AVF_STOP_HANGUP;
			}
		}
	}
	if (timer_fd >= 0)
		close(timer_fd);
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

int vmm_run(const struct vmm_opts *o)
{
	static struct vm vm;	/* large; zero-initialized */
	struct lifecycle lc;
	int vmm_fd = -1, sig_fd, wake_fd, ret;
	int32_t reason;
	uint32_t cid = AVF_CID_FIRST;

	vlog_verbose = o->verbose;
	/*
	 * No core dumps or ptrace by other users: guest memory and secrets stay
	 * private. (LeakSanitizer needs a dumpable process to stop the world,
	 * so sanitizer builds keep it.)
	 */
#ifndef __SANITIZE_ADDRESS__
	prctl(PR_SET_DUMPABLE, 0);
#endif
	signal(SIGPIPE, SIG_IGN);

	if (o->protected_vm) {
		vlog("--protected: no protected VM backend on this host\n");
		return EXIT_VMM_USAGE;
	}
	if (access("/dev/kvm", R_OK | W_OK)) {
		vlog("/dev/kvm: %s\n", strerror(errno));
		return EXIT_VMM_UNAVAILABLE;
	}
	sig_fd = make_signalfd();
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sig_fd < 0 || wake_fd < 0) {
		vlog("signalfd/eventfd: %s\n", strerror(errno));
		return EXIT_VMM_INTERNAL;
	}

	if (!o->standalone) {
		vmm_fd = bind_instance(o, &cid);
		if (vmm_fd == -ENODEV)
			return EXIT_VMM_UNAVAILABLE;
		if (vmm_fd < 0)
			return EXIT_VMM_INTERNAL;
	}
	/* Bound: from here on every path reports a stop reason. */
	lifecycle_init(&lc, vmm_fd, wake_fd);
	vm.lc = &lc;

	ret = setup_guest(&vm, o, cid, &lc, &reason);
	if (ret) {
		vm_destroy(&vm);
		return lifecycle_stop(&lc, reason) ? EXIT_VMM_INTERNAL : 0;
	}
	ret = vmm_seccomp_prepare();
	ret = ret ?: vm_start(&vm);
	ret = ret ?: vmm_seccomp_install(SECCOMP_ROLE_MAIN);
	if (ret) {
		vlog("starting threads: %s\n", strerror(-ret));
		vm_destroy(&vm);
		return lifecycle_stop(&lc, AVF_STOP_INFRASTRUCTURE_ERROR) ? EXIT_VMM_INTERNAL : 0;
	}

	reason = supervise(&vm, &lc, sig_fd, wake_fd, o->hangup_s);
	vm_stop_vcpus(&vm);
	devloop_stop(&vm.devloop);
	ret = lifecycle_stop(&lc, reason);
	vlog_debug("console %llu bytes (%llu dropped), log %llu bytes (%llu dropped), "
		   "blk ioerrs %llu, vsock rst %llu\n",
		   (unsigned long long)vm.console_out.written,
		   (unsigned long long)vm.console_out.dropped,
		   (unsigned long long)vm.log_out.written,
		   (unsigned long long)vm.log_out.dropped,
		   (unsigned long long)vm.pkg.ioerrs, (unsigned long long)vm.vsock.rsts);
	vm_destroy(&vm);
	if (vmm_fd >= 0)
		close(vmm_fd);
	close(sig_fd);
	close(wake_fd);
	return ret ? EXIT_VMM_INTERNAL : EXIT_VMM_OK;
}
