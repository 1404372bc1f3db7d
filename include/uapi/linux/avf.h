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

#define AVF_ABI_VERSION		1

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

/**
 * struct avf_capabilities - what this module and host support
 * @abi_version: AVF_ABI_VERSION of the running module.
 * @caps: AVF_CAP_* bits.
 * @flags: AVF_CAPS_* bits.
 * @max_vms_per_owner: cap on instances per uid.
 * @event_queue_len: records each VM fd queues before overflow.
 * @reserved: written as zero.
 */
struct avf_capabilities {
	__u32 abi_version;
	__u32 caps;
	__u32 flags;
	__u32 max_vms_per_owner;
	__u32 event_queue_len;
	__u32 reserved[11];
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
 * @reserved: written as zero.
 */
struct avf_vm_info {
	__u32 status;
	__u32 cid;
	__u32 vmm_pid;
	__s32 last_stop_reason;
	__u64 run_count;
	char name[AVF_NAME_MAX];
	__u64 reserved[4];
};

/* struct avf_vm_bind.flags */
#define AVF_BIND_VALID		0

/**
 * struct avf_vm_bind - bind the calling process as the instance's VMM
 * @flags: none defined, must be zero.
 * @cid: out: guest CID allocated for this run.
 * @reserved: must be zero.
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

/**
 * struct avf_images - what a VM boots, as file descriptors the module
 *	measures (SHA-256) itself
 * @kernel_fd: guest kernel.
 * @initrd_fd: guest runtime (initramfs).
 * @package_fd: the app package.
 * @debug_level: AVF_DEBUG_*; part of the identity.
 * @protected_vm: 0 or 1; part of the identity.
 * @reserved: must be zero.
 *
 * Each fd must be readable and either a memfd sealed with F_SEAL_WRITE,
 * F_SEAL_GROW and F_SEAL_SHRINK, or a regular file nobody has open for
 * writing: the module then denies writes to it (as exec does, ETXTBSY)
 * until the run ends, so the bytes the VMM boots from that fd are the bytes
 * measured. Images are at most 1 GiB.
 */
struct avf_images {
	__s32 kernel_fd;
	__s32 initrd_fd;
	__s32 package_fd;
	__u32 debug_level;
	__u32 protected_vm;
	__u32 reserved[3];
};

/**
 * struct avf_instance_seal - create a new instance state
 * @images: what the instance will boot.
 * @state: out: the sealed state, AVF_INSTANCE_STATE_SIZE bytes at this
 *	user address.
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

/* struct avf_vmm_start.flags */
#define AVF_START_VALID		0

/**
 * struct avf_vmm_start - verify the instance and hand its secret to the guest
 * @images: what this run boots; measured again and compared with @state.
 * @state: user address of the sealed state (AVF_INSTANCE_STATE_SIZE bytes).
 * @state_size: must be AVF_INSTANCE_STATE_SIZE.
 * @mem_fd: the guest RAM memfd, open for writing.
 * @secret_offset: where in @mem_fd the module writes the AVF_SECRET_SIZE
 *	byte VM secret; 8-byte aligned, inside the memfd.
 * @flags: none defined, must be zero.
 * @reserved0: must be zero.
 * @reserved: must be zero.
 */
struct avf_vmm_start {
	struct avf_images images;
	__u64 state;
	__u32 state_size;
	__s32 mem_fd;
	__u64 secret_offset;
	__u32 flags;
	__u32 reserved0;
	__u64 reserved[2];
};

/**
 * struct avf_uds_load - (re)load the device secret from the kernel key
 * @flags: none defined, must be zero.
 * @reserved: must be zero.
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

/* VM fd */
#define AVF_VM_GET_INFO		_IOR(AVF_IOCTL_TYPE, 0x50, struct avf_vm_info)
#define AVF_VM_DELETE		_IO(AVF_IOCTL_TYPE, 0x51)
#define AVF_VM_STOP		_IO(AVF_IOCTL_TYPE, 0x52)
#define AVF_VM_BIND_VMM		_IOWR(AVF_IOCTL_TYPE, 0x53, struct avf_vm_bind)

/* VMM fd */
#define AVF_VMM_REPORT		_IOW(AVF_IOCTL_TYPE, 0x60, struct avf_vmm_report)
#define AVF_VMM_START		_IOW(AVF_IOCTL_TYPE, 0x61, struct avf_vmm_start)

#endif /* _UAPI_LINUX_AVF_H */
