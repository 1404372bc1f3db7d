// SPDX-License-Identifier: GPL-2.0
/*
 * Error codes, their names, and the per-object message buffers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void avf__seterr(char *buf, const char *fmt, ...)
{
	va_list ap;

	if (!buf)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, AVF_ERRMSG_MAX, fmt, ap);
	va_end(ap);
}

char *avf__strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

int avf__errno_to_err(int e)
{
	switch (e) {
	case ENOMEM:
		return AVF_E_NOMEM;
	case ENOENT:
		return AVF_E_NOT_FOUND;
	case EEXIST:
	case ENOTEMPTY:
		return AVF_E_EXISTS;
	case EACCES:
	case EPERM:
	case EROFS:
		return AVF_E_PERMISSION;
	case EINVAL:
	case ENAMETOOLONG:
		return AVF_E_INVALID;
	case EBUSY:
	case EWOULDBLOCK:
		return AVF_E_BUSY;
	case EIDRM:
		return AVF_E_DELETED;
	case EIO:
	case ENOSPC:
	case EDQUOT:
		return AVF_E_IO;
	default:
		return AVF_E_SYSTEM;
	}
}

const char *avf_strerror(int err)
{
	switch (err) {
	case AVF_OK:
		return "AVF_OK: success";
	case AVF_E_INVALID:
		return "AVF_E_INVALID: invalid argument";
	case AVF_E_NOMEM:
		return "AVF_E_NOMEM: out of memory";
	case AVF_E_UNSUPPORTED:
		return "AVF_E_UNSUPPORTED: AVF is not supported on this host";
	case AVF_E_NOT_FOUND:
		return "AVF_E_NOT_FOUND: no such VM";
	case AVF_E_EXISTS:
		return "AVF_E_EXISTS: a VM of that name exists";
	case AVF_E_STATE:
		return "AVF_E_STATE: not allowed in the VM's current status";
	case AVF_E_DELETED:
		return "AVF_E_DELETED: the VM was deleted";
	case AVF_E_INCOMPATIBLE:
		return "AVF_E_INCOMPATIBLE: config is not compatible";
	case AVF_E_IO:
		return "AVF_E_IO: I/O error";
	case AVF_E_CORRUPT:
		return "AVF_E_CORRUPT: instance file is corrupt";
	case AVF_E_VERSION:
		return "AVF_E_VERSION: unknown file format version";
	case AVF_E_BUSY:
		return "AVF_E_BUSY: instance is in use";
	case AVF_E_PERMISSION:
		return "AVF_E_PERMISSION: permission denied";
	case AVF_E_NOT_CAPABLE:
		return "AVF_E_NOT_CAPABLE: the host lacks this capability";
	case AVF_E_SPAWN:
		return "AVF_E_SPAWN: avf-vmm failed to start";
	case AVF_E_NO_OUTPUT:
		return "AVF_E_NO_OUTPUT: output is not captured";
	case AVF_E_PROTOCOL:
		return "AVF_E_PROTOCOL: protocol error";
	case AVF_E_SYSTEM:
		return "AVF_E_SYSTEM: system error";
	case AVF_E_TIMEOUT:
		return "AVF_E_TIMEOUT: timed out";
	case AVF_E_IMAGE:
		return "AVF_E_IMAGE: a boot image is missing or unusable";
	case AVF_E_REFUSED:
		return "AVF_E_REFUSED: the VM refused the connection";
	default:
		return "unknown libavf error";
	}
}

const char *avf_stop_reason_name(int reason)
{
	switch (reason) {
	case -2:
		return "NONE";
	case AVF_STOP_VIRTUALIZATION_SERVICE_DIED:
		return "VIRTUALIZATION_SERVICE_DIED";
	case AVF_STOP_INFRASTRUCTURE_ERROR:
		return "INFRASTRUCTURE_ERROR";
	case AVF_STOP_KILLED:
		return "KILLED";
	case AVF_STOP_UNKNOWN:
		return "UNKNOWN";
	case AVF_STOP_SHUTDOWN:
		return "SHUTDOWN";
	case AVF_STOP_START_FAILED:
		return "START_FAILED";
	case AVF_STOP_REBOOT:
		return "REBOOT";
	case AVF_STOP_CRASH:
		return "CRASH";
	case AVF_STOP_PVM_FIRMWARE_PUBLIC_KEY_MISMATCH:
		return "PVM_FIRMWARE_PUBLIC_KEY_MISMATCH";
	case AVF_STOP_PVM_FIRMWARE_INSTANCE_IMAGE_CHANGED:
		return "PVM_FIRMWARE_INSTANCE_IMAGE_CHANGED";
	case AVF_STOP_BOOTLOADER_PUBLIC_KEY_MISMATCH:
		return "BOOTLOADER_PUBLIC_KEY_MISMATCH";
	case AVF_STOP_BOOTLOADER_INSTANCE_IMAGE_CHANGED:
		return "BOOTLOADER_INSTANCE_IMAGE_CHANGED";
	case AVF_STOP_MICRODROID_FAILED_TO_CONNECT_TO_VIRTUALIZATION_SERVICE:
		return "MICRODROID_FAILED_TO_CONNECT_TO_VIRTUALIZATION_SERVICE";
	case AVF_STOP_MICRODROID_PAYLOAD_HAS_CHANGED:
		return "MICRODROID_PAYLOAD_HAS_CHANGED";
	case AVF_STOP_MICRODROID_PAYLOAD_VERIFICATION_FAILED:
		return "MICRODROID_PAYLOAD_VERIFICATION_FAILED";
	case AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG:
		return "MICRODROID_INVALID_PAYLOAD_CONFIG";
	case AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR:
		return "MICRODROID_UNKNOWN_RUNTIME_ERROR";
	case AVF_STOP_HANGUP:
		return "HANGUP";
	default:
		return "UNKNOWN_REASON";
	}
}

const char *avf_vm_error_name(int code)
{
	switch (code) {
	case AVF_ERROR_UNKNOWN:
		return "UNKNOWN";
	case AVF_ERROR_PAYLOAD_VERIFICATION_FAILED:
		return "PAYLOAD_VERIFICATION_FAILED";
	case AVF_ERROR_PAYLOAD_CHANGED:
		return "PAYLOAD_CHANGED";
	case AVF_ERROR_PAYLOAD_INVALID_CONFIG:
		return "PAYLOAD_INVALID_CONFIG";
	default:
		return "UNKNOWN_ERROR";
	}
}

const char *avf_status_name(int status)
{
	switch (status) {
	case AVF_VM_STATUS_STOPPED:
		return "STOPPED";
	case AVF_VM_STATUS_RUNNING:
		return "RUNNING";
	case AVF_VM_STATUS_DELETED:
		return "DELETED";
	default:
		return "UNKNOWN";
	}
}
