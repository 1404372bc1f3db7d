/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * avf: Android Virtualization Framework style VM instances on Linux.
 *
 * /dev/avf is a misc device. Its ioctls create or open VM instances by name
 * within the caller's uid; each instance is handed out as an anon-inode fd
 * (the "VM fd"). The process that runs the VM (avf-vmm) binds to an instance
 * through a VM fd and receives a "VMM fd" on which it reports life-cycle
 * events; the module fans the events out to every VM fd of the instance as
 * fixed-size records readable with read() and pollable with poll().
 *
 * Rules common to every ioctl (Documentation/userspace-api/avf.rst):
 *  - unknown flags and non-zero reserved fields fail with -EINVAL;
 *  - unknown commands fail with -ENOTTY;
 *  - bad user pointers fail with -EFAULT and change nothing;
 *  - output structures are fully written, reserved bytes as zero.
 */
#ifndef _UAPI_LINUX_AVF_H
#define _UAPI_LINUX_AVF_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define AVF_ABI_VERSION		2

/* ioctl type; sequence numbers 0x40-0x7f (0xAF 00-1F is fsl_hypervisor). */
#define AVF_IOCTL_TYPE		0xAF

/* Bytes in a VM name including the terminating NUL. */
#define AVF_NAME_MAX		64
/* Bytes in an error message including the terminating NUL. */
#define AVF_MESSAGE_MAX		128

/* Guest CIDs handed out by the module. */
#define AVF_CID_FIRST		2048
#define AVF_CID_LAST		65535

/* Capabilities (values match VirtualMachineManager). */
#define AVF_CAP_PROTECTED_VM		(1U << 0)
#define AVF_CAP_NON_PROTECTED_VM	(1U << 1)

/* struct avf_capabilities.flags */
#define AVF_CAPS_UDS_PERSISTENT		(1U << 0) /* device secret from a kernel key */
#define AVF_CAPS_TRUSTED_VMM		(1U << 1) /* a trusted VMM uid is set (vmm_uid) */
/*
 * Development mode (module parameter owner_vmm=1, root only): the owner of
 * an instance may bind as its VMM, and so can read its VM secret.
 */
#define AVF_CAPS_OWNER_IS_VMM		(1U << 2)

/* struct avf_capabilities.vmm_uid when no trusted VMM uid is set. */
#define AVF_VMM_UID_NONE		0xffffffffU

/**
 * struct avf_capabilities - what this module and host support
 * @abi_version: AVF_ABI_VERSION of the running module.
 * @caps: AVF_CAP_* bits.
 * @flags: AVF_CAPS_* bits.
 * @max_vms_per_owner: cap on instances per uid.
 * @event_queue_len: records each VM fd queues before overflow.
 * @vmm_uid: the uid (initial user namespace) that may bind as a VMM and
 *	receive VM secrets (module parameter vmm_uid), or AVF_VMM_UID_NONE.
 * @max_running_per_owner: cap on instances of one uid running at once.
 * @max_pending_connects: cap on connectVsock requests in flight per VM.
 * @reserved: written as zero.
 */
struct avf_capabilities {
	__u32 abi_version;
	__u32 caps;
	__u32 flags;
	__u32 max_vms_per_owner;
	__u32 event_queue_len;
	__u32 vmm_uid;
	__u32 max_running_per_owner;
	__u32 max_pending_connects;
	__u32 reserved[8];
};

/* struct avf_vm_open.flags */
#define AVF_OPEN_CREATE		(1U << 0) /* create when absent */
#define AVF_OPEN_EXCL		(1U << 1) /* with CREATE: fail if present */
#define AVF_OPEN_VALID		(AVF_OPEN_CREATE | AVF_OPEN_EXCL)

/**
 * struct avf_vm_open - create or open a VM instance by name
 * @flags: AVF_OPEN_* bits.
 * @reserved0: must be zero.
 * @name: NUL-terminated; 1..AVF_NAME_MAX-1 bytes, no '/', no control
 *	characters, not "." or ".."; every byte after the NUL must be zero.
 * @reserved: must be zero.
 */
struct avf_vm_open {
	__u32 flags;
	__u32 reserved0;
	char name[AVF_NAME_MAX];
	__u64 reserved[4];
};

/* Instance status (values match VirtualMachine.STATUS_*). */
#define AVF_STATUS_STOPPED	0
#define AVF_STATUS_RUNNING	1
#define AVF_STATUS_DELETED	2

/**
 * struct avf_vm_info - state of an instance
 * @status: AVF_STATUS_*.
 * @cid: guest CID of the current run, 0 when not running.
 * @vmm_pid: pid (in the caller's pid namespace) of the bound VMM, or 0.
 * @last_stop_reason: AVF_STOP_* of the last run, or AVF_STOP_NONE.
 * @run_count: completed and current runs since the instance was created.
 * @name: the instance's name, NUL-padded.
 * @vsock_refused: connections the guest tried to open (to the host, to
 *	another VM, to any port) and the VMM refused with a reset, in the
 *	current run or, when stopped, the last one (as reported by the VMM
 *	with AVF_VMM_SET_STATS).
 * @console_dropped: bytes of the guest kernel console dropped because
 *	nobody read them, in the current or last run; final once the run has
 *	stopped.
 * @reserved: written as zero.
 */
struct avf_vm_info {
	__u32 status;
	__u32 cid;
	__u32 vmm_pid;
	__s32 last_stop_reason;
	__u64 run_count;
	char name[AVF_NAME_MAX];
	__u64 vsock_refused;
	__u64 console_dropped;
	__u64 reserved[2];
};

/* struct avf_vm_bind.flags */
#define AVF_BIND_VALID		0

/**
 * struct avf_vm_bind - bind the calling process as the instance's VMM
 * @flags: none defined, must be zero.
 * @cid: out: guest CID allocated for this run.
 * @reserved: must be zero.
 *
 * Only a trusted VMM may bind: a process whose real, effective, saved and
 * filesystem uids are all the module's vmm_uid and that is not dumpable
 * (PR_SET_DUMPABLE 0, as after a set-uid exec). In development mode
 * (AVF_CAPS_OWNER_IS_VMM) a non-dumpable process of the instance's owner
 * may bind too. Anyone else gets -EPERM. A uid already running
 * max_running_per_owner instances gets -EUSERS.
 */
struct avf_vm_bind {
	__u32 flags;
	__u32 cid;
	__u64 reserved[3];
};

/* Event types (struct avf_event.type, struct avf_vmm_report.type). */
#define AVF_EVENT_PAYLOAD_STARTED	1
#define AVF_EVENT_PAYLOAD_READY		2
#define AVF_EVENT_PAYLOAD_FINISHED	3 /* code: payload exit code */
#define AVF_EVENT_ERROR			4 /* code: AVF_ERROR_*, message */
#define AVF_EVENT_STOPPED		5 /* code: AVF_STOP_* */
#define AVF_EVENT_RUNNING		6 /* queued when a VMM binds: code = CID */
#define AVF_EVENT_OVERFLOW		7 /* code: records dropped before this one */

/* Error codes (VirtualMachineCallback.ERROR_*). */
#define AVF_ERROR_UNKNOWN			0
#define AVF_ERROR_PAYLOAD_VERIFICATION_FAILED	1
#define AVF_ERROR_PAYLOAD_CHANGED		2
#define AVF_ERROR_PAYLOAD_INVALID_CONFIG	3

/* Stop reasons (VirtualMachineCallback.STOP_REASON_*). */
#define AVF_STOP_NONE					(-2) /* never stopped yet */
#define AVF_STOP_VIRTUALIZATION_SERVICE_DIED		(-1)
#define AVF_STOP_INFRASTRUCTURE_ERROR			0
#define AVF_STOP_KILLED					1
#define AVF_STOP_UNKNOWN				2
#define AVF_STOP_SHUTDOWN				3
#define AVF_STOP_START_FAILED				4
#define AVF_STOP_REBOOT					5
#define AVF_STOP_CRASH					6
#define AVF_STOP_PVM_FIRMWARE_PUBLIC_KEY_MISMATCH	7
#define AVF_STOP_PVM_FIRMWARE_INSTANCE_IMAGE_CHANGED	8
#define AVF_STOP_BOOTLOADER_PUBLIC_KEY_MISMATCH		9
#define AVF_STOP_BOOTLOADER_INSTANCE_IMAGE_CHANGED	10
#define AVF_STOP_MICRODROID_FAILED_TO_CONNECT_TO_VIRTUALIZATION_SERVICE 11
#define AVF_STOP_MICRODROID_PAYLOAD_HAS_CHANGED		12
#define AVF_STOP_MICRODROID_PAYLOAD_VERIFICATION_FAILED	13
#define AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG	14
#define AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR	15
#define AVF_STOP_HANGUP					16

/**
 * struct avf_event - one life-cycle record, read() from a VM fd
 * @type: AVF_EVENT_*.
 * @code: exit code, error code, stop reason, CID or drop count by @type.
 * @seq: per-instance sequence number, starting at 1; gaps never occur
 *	except where an AVF_EVENT_OVERFLOW record says so.
 * @reserved0: zero.
 * @timestamp_ns: CLOCK_MONOTONIC time the module accepted the event.
 * @message: NUL-terminated text for AVF_EVENT_ERROR, else zeroes.
 * @reserved: zero.
 */
struct avf_event {
	__u32 type;
	__s32 code;
	__u32 seq;
	__u32 reserved0;
	__u64 timestamp_ns;
	char message[AVF_MESSAGE_MAX];
	__u64 reserved[2];
};

/**
 * struct avf_vmm_report - an event reported by the bound VMM
 * @type: AVF_EVENT_PAYLOAD_STARTED .. AVF_EVENT_STOPPED.
 * @code: as in struct avf_event.
 * @reserved0: must be zero.
 * @message: for AVF_EVENT_ERROR: NUL-terminated; bytes after the NUL must
 *	be zero; for other types all zero.
 * @reserved: must be zero.
 */
struct avf_vmm_report {
	__u32 type;
	__s32 code;
	__u64 reserved0;
	char message[AVF_MESSAGE_MAX];
	__u64 reserved[2];
};

/**
 * struct avf_vmm_stats - counters of the current run, set by the VMM
 * @vsock_refused: as in struct avf_vm_info.
 * @console_dropped: as in struct avf_vm_info.
 * @reserved: must be zero.
 *
 * AVF_VMM_SET_STATS on the VMM fd, whenever a counter changed and once
 * more, final, before the VMM reports STOPPED. A counter never goes down
 * within a run (-EINVAL); -ESHUTDOWN once the run has ended. Every run
 * starts at zero when it binds; the last run's values stay readable in
 * struct avf_vm_info until the next bind.
 */
struct avf_vmm_stats {
	__u64 vsock_refused;
	__u64 console_dropped;
	__u64 reserved[6];
};

/* ---- identity: measured images, sealed instance state, secrets ---- */

/* Bytes of a sealed instance state blob (instance.img). */
#define AVF_INSTANCE_STATE_SIZE	256
/* Bytes of the VM secret the module writes into the guest. */
#define AVF_SECRET_SIZE		32

/* Debug levels (VirtualMachineConfig.DEBUG_LEVEL_*). */
#define AVF_DEBUG_NONE		0
#define AVF_DEBUG_FULL		1

/* Bytes of the payload binary name, including the NUL. */
#define AVF_PAYLOAD_NAME_MAX	256
/* Bytes of the extra guest kernel command line, including the NUL. */
#define AVF_CMDLINE_MAX		1024

/**
 * struct avf_images - what a VM boots: file descriptors the module measures
 *	(SHA-256) itself, and every other input that changes what runs
 * @kernel_fd: guest kernel.
 * @initrd_fd: guest runtime (initramfs).
 * @package_fd: the app package.
 * @debug_level: AVF_DEBUG_*; part of the identity.
 * @protected_vm: 0 or 1; part of the identity.
 * @reserved0: must be zero.
 * @payload_name: user address of the payload binary name: NUL-terminated,
 *	1..AVF_PAYLOAD_NAME_MAX-1 bytes, printable ASCII, no '/'; part of the
 *	identity.
 * @cmdline: user address of the extra guest kernel command line the VMM
 *	appends to its fixed one: NUL-terminated, 0..AVF_CMDLINE_MAX-1 bytes of
 *	printable ASCII; 0 means empty. Part of the identity.
 * @reserved: must be zero.
 *
 * Each fd must be a readable regular file of at most 1 GiB. The module
 * never denies writes to it: it reads each image once, hashing it, and
 * boots the run from what it read (struct avf_vmm_load).
 */
struct avf_images {
	__s32 kernel_fd;
	__s32 initrd_fd;
	__s32 package_fd;
	__u32 debug_level;
	__u32 protected_vm;
	__u32 reserved0;
	__u64 payload_name;
	__u64 cmdline;
	__u64 reserved[2];
};

/**
 * struct avf_instance_seal - create a new instance state
 * @images: what the instance will boot.
 * @state: out: the sealed state, AVF_INSTANCE_STATE_SIZE bytes at this
 *	user address. It names the caller's effective uid as its owner: only
 *	runs of that uid's instances accept it.
 * @state_size: must be AVF_INSTANCE_STATE_SIZE.
 * @flags: none defined, must be zero.
 * @reserved: must be zero.
 */
struct avf_instance_seal {
	struct avf_images images;
	__u64 state;
	__u32 state_size;
	__u32 flags;
	__u64 reserved[2];
};

/* struct avf_vmm_load.flags */
#define AVF_LOAD_VALID		0

/**
 * struct avf_vmm_load - measure and verify what this run boots
 * @images: what the owner asked to boot (fds in the VMM's fd table).
 * @state: user address of the sealed state (AVF_INSTANCE_STATE_SIZE bytes).
 * @state_size: must be AVF_INSTANCE_STATE_SIZE.
 * @flags: none defined, must be zero.
 * @kernel_fd: out: read-only fd of the measured kernel.
 * @initrd_fd: out: read-only fd of the measured initramfs.
 * @package_fd: out: read-only fd of the measured package.
 * @reserved0: written as zero.
 * @reserved: must be zero.
 *
 * The module reads each image once, hashing it as it copies it into a
 * private, fully sealed shmem file (a memfd sealed by the caller with
 * F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK is used as it is), compares
 * the measurement, the owner and @images' other inputs with @state, derives
 * the VM secret and keeps it in kernel memory for AVF_VMM_START. The VMM
 * boots from the returned fds only (O_RDONLY | O_CLOEXEC): whatever happens
 * to the owner's files afterwards, the guest runs the measured bytes.
 * Once per binding (-EALREADY after a success).
 */
struct avf_vmm_load {
	struct avf_images images;
	__u64 state;
	__u32 state_size;
	__u32 flags;
	__s32 kernel_fd;
	__s32 initrd_fd;
	__s32 package_fd;
	__u32 reserved0;
	__u64 reserved[2];
};

/* struct avf_vmm_start.flags */
#define AVF_START_VALID		0

/**
 * struct avf_vmm_start - hand the VM secret to the guest
 * @mem_fd: the guest RAM memfd (shmem), open for writing.
 * @flags: none defined, must be zero.
 * @secret_offset: where in @mem_fd the module writes the AVF_SECRET_SIZE
 *	byte VM secret: 8-byte aligned, the whole secret inside the memfd.
 * @reserved: must be zero.
 *
 * Only after a successful AVF_VMM_LOAD (-ENOKEY before), once per binding
 * (-EALREADY after a success).
 */
struct avf_vmm_start {
	__s32 mem_fd;
	__u32 flags;
	__u64 secret_offset;
	__u64 reserved[3];
};

/* ---- transfer of an instance to another owner (descriptors) ----------- */

/**
 * struct avf_instance_export - make a one-shot transfer object of a state
 * @state: user address of the caller's sealed state.
 * @state_size: must be AVF_INSTANCE_STATE_SIZE.
 * @flags: none defined, must be zero.
 * @reserved: must be zero.
 *
 * Only the state's owner may export it (-EPERM otherwise; -EBADMSG for a
 * state that does not open). Returns an O_CLOEXEC fd ("avf-transfer")
 * that carries the instance's identity in kernel memory; pass it with
 * SCM_RIGHTS. It can be imported once.
 */
struct avf_instance_export {
	__u64 state;
	__u32 state_size;
	__u32 flags;
	__u64 reserved[2];
};

/**
 * struct avf_instance_import - take an instance from a transfer object
 * @transfer_fd: an fd returned by AVF_INSTANCE_EXPORT (-EBADF or -EINVAL
 *	for anything else; -ESTALE when it was imported already).
 * @state_size: must be AVF_INSTANCE_STATE_SIZE.
 * @state: out: user address where the module writes the state sealed
 *	anew for the caller's effective uid (same identity, same secret).
 * @flags: none defined, must be zero.
 * @reserved0: must be zero.
 * @reserved: must be zero.
 */
struct avf_instance_import {
	__s32 transfer_fd;
	__u32 state_size;
	__u64 state;
	__u32 flags;
	__u32 reserved0;
	__u64 reserved[2];
};

/* ---- host connections to a guest (connectVsock) ----------------------- */

/* Bounds of struct avf_vsock_connect.timeout_ms. */
#define AVF_CONNECT_TIMEOUT_DEFAULT_MS	10000
#define AVF_CONNECT_TIMEOUT_MAX_MS	120000
/* Lowest guest port a host may connect to. */
#define AVF_VSOCK_PORT_MIN		1024

/* struct avf_vsock_connect.flags */
#define AVF_CONNECT_NONBLOCK	(1U << 0) /* the returned fd is O_NONBLOCK */
#define AVF_CONNECT_VALID	AVF_CONNECT_NONBLOCK

/**
 * struct avf_vsock_connect - connect to a port of the running guest
 * @port: guest port, AVF_VSOCK_PORT_MIN..0xfffffffe.
 * @flags: AVF_CONNECT_* bits.
 * @timeout_ms: 0 for AVF_CONNECT_TIMEOUT_DEFAULT_MS, at most
 *	AVF_CONNECT_TIMEOUT_MAX_MS.
 * @reserved0: must be zero.
 * @reserved: must be zero.
 *
 * AVF_VM_CONNECT_VSOCK on a VM fd of the owner returns a connected
 * AF_UNIX stream socket (O_CLOEXEC) whose other end the bound VMM relays
 * to the guest port. Errors: -EPERM (caller's effective uid is not the
 * owner), -ESRCH (not running), -EINVAL (port, flags), -ECONNREFUSED (the
 * guest answered with a reset), -ETIMEDOUT, -EAGAIN (max_pending_connects
 * requests in flight), -ECONNABORTED (the run ended meanwhile).
 */
struct avf_vsock_connect {
	__u32 port;
	__u32 flags;
	__u32 timeout_ms;
	__u32 reserved0;
	__u64 reserved[2];
};

/**
 * struct avf_vmm_conn - a host connection request, taken by the VMM
 * @id: out: request id for AVF_VMM_CONN_DONE.
 * @port: out: guest port.
 * @fd: out: the VMM's end of the connection (O_CLOEXEC | O_NONBLOCK).
 * @reserved: must be zero; written as zero.
 *
 * AVF_VMM_CONN_TAKE on the VMM fd; -EAGAIN when none is pending. The VMM
 * fd polls readable (EPOLLIN) while a request is pending.
 */
struct avf_vmm_conn {
	__u64 id;
	__u32 port;
	__s32 fd;
	__u64 reserved[2];
};

/**
 * struct avf_vmm_conn_done - the outcome of a taken request
 * @id: from struct avf_vmm_conn.
 * @result: 0 (the guest accepted), -ECONNREFUSED or -ETIMEDOUT.
 * @reserved0: must be zero.
 * @reserved: must be zero.
 *
 * -ENOENT for an id that is not taken by this VMM or already ended (the
 * requester gave up): the VMM then resets the guest connection.
 */
struct avf_vmm_conn_done {
	__u64 id;
	__s32 result;
	__u32 reserved0;
	__u64 reserved[2];
};

/**
 * struct avf_uds_load - (re)load the device secret from the kernel key
 * @flags: none defined, must be zero.
 * @reserved: must be zero.
 *
 * Root only (CAP_SYS_ADMIN). The key is a logon key "avf:uds" owned by
 * uid 0, searched in the module's own keyring ".avf" (root-owned; add to
 * it with "keyctl padd logon avf:uds ... %:.avf"), then in root's user
 * keyring. Keys of other owners are ignored.
 */
struct avf_uds_load {
	__u32 flags;
	__u32 reserved[7];
};

/* /dev/avf */
#define AVF_GET_CAPABILITIES	_IOR(AVF_IOCTL_TYPE, 0x40, struct avf_capabilities)
#define AVF_VM_OPEN		_IOW(AVF_IOCTL_TYPE, 0x41, struct avf_vm_open)
#define AVF_INSTANCE_SEAL	_IOW(AVF_IOCTL_TYPE, 0x42, struct avf_instance_seal)
#define AVF_UDS_LOAD		_IOW(AVF_IOCTL_TYPE, 0x43, struct avf_uds_load)
#define AVF_INSTANCE_EXPORT	_IOW(AVF_IOCTL_TYPE, 0x44, struct avf_instance_export)
#define AVF_INSTANCE_IMPORT	_IOW(AVF_IOCTL_TYPE, 0x45, struct avf_instance_import)

/* VM fd */
#define AVF_VM_GET_INFO		_IOR(AVF_IOCTL_TYPE, 0x50, struct avf_vm_info)
#define AVF_VM_DELETE		_IO(AVF_IOCTL_TYPE, 0x51)
#define AVF_VM_STOP		_IO(AVF_IOCTL_TYPE, 0x52)
#define AVF_VM_BIND_VMM		_IOWR(AVF_IOCTL_TYPE, 0x53, struct avf_vm_bind)
#define AVF_VM_CONNECT_VSOCK	_IOW(AVF_IOCTL_TYPE, 0x54, struct avf_vsock_connect)

/* VMM fd */
#define AVF_VMM_REPORT		_IOW(AVF_IOCTL_TYPE, 0x60, struct avf_vmm_report)
#define AVF_VMM_START		_IOW(AVF_IOCTL_TYPE, 0x61, struct avf_vmm_start)
#define AVF_VMM_LOAD		_IOWR(AVF_IOCTL_TYPE, 0x62, struct avf_vmm_load)
#define AVF_VMM_CONN_TAKE	_IOR(AVF_IOCTL_TYPE, 0x63, struct avf_vmm_conn)
#define AVF_VMM_CONN_DONE	_IOW(AVF_IOCTL_TYPE, 0x64, struct avf_vmm_conn_done)
#define AVF_VMM_SET_STATS	_IOW(AVF_IOCTL_TYPE, 0x65, struct avf_vmm_stats)

#endif /* _UAPI_LINUX_AVF_H */
