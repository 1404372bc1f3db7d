/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libavf: the Android Virtualization Framework API on Linux, in C.
 *
 * The objects mirror android.system.virtualmachine:
 *
 *   VirtualMachineManager        struct avf_manager
 *   VirtualMachineConfig.Builder struct avf_config_builder
 *   VirtualMachineConfig         struct avf_config
 *   VirtualMachine               struct avf_vm
 *   VirtualMachineCallback       struct avf_vm_callbacks
 *   VirtualMachineDescriptor     struct avf_descriptor
 *
 * Every function that can fail returns AVF_OK (0) or a negative
 * enum avf_error value; avf_strerror() names it and the object's
 * *_last_error() function holds a message about the last failure on that
 * object. The library never exits, aborts or prints.
 *
 * Threads: an object may be used from one thread at a time, except that
 * avf_vm_status(), avf_vm_stop() and avf_vm_clear_callback() may be called
 * from a callback. Callbacks never run with a library lock held.
 *
 * Documentation/libavf.rst describes the API, the error codes and the
 * instance files.
 */
#ifndef AVF_AVF_H
#define AVF_AVF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVF_API __attribute__((visibility("default")))

/* Library version (the soname is libavf.so.AVF_VERSION_MAJOR). */
#define AVF_VERSION_MAJOR 0
#define AVF_VERSION_MINOR 1

/**
 * enum avf_error - results of every libavf call
 *
 * Values are stable: they are part of the ABI.
 */
enum avf_error {
	AVF_OK = 0,
	AVF_E_INVALID = -1,	  /* bad argument (IllegalArgumentException) */
	AVF_E_NOMEM = -2,	  /* out of memory */
	AVF_E_UNSUPPORTED = -3,	  /* AVF absent: no /dev/avf or wrong ABI */
	AVF_E_NOT_FOUND = -4,	  /* no VM of that name */
	AVF_E_EXISTS = -5,	  /* a VM of that name already exists */
	AVF_E_STATE = -6,	  /* illegal in the VM's status (IllegalStateException) */
	AVF_E_DELETED = -7,	  /* the VM was deleted */
	AVF_E_INCOMPATIBLE = -8,  /* config change other than memory/CPUs */
	AVF_E_IO = -9,		  /* file or device I/O failed (incl. fsync) */
	AVF_E_CORRUPT = -10,	  /* instance file malformed, truncated or hostile */
	AVF_E_VERSION = -11,	  /* instance file of an unknown format version */
	AVF_E_BUSY = -12,	  /* instance locked by another process or handle */
	AVF_E_PERMISSION = -13,	  /* permission denied */
	AVF_E_NOT_CAPABLE = -14,  /* host lacks the capability (protected VM) */
	AVF_E_SPAWN = -15,	  /* avf-vmm could not be started or died at once */
	AVF_E_NO_OUTPUT = -16,	  /* output capture is not enabled / not running */
	AVF_E_PROTOCOL = -17,	  /* unexpected answer from the module or a peer */
	AVF_E_SYSTEM = -18,	  /* other system error (see the message) */
	AVF_E_TIMEOUT = -19,	  /* avf-vmm did not start in time */
	AVF_E_IMAGE = -20,	  /* guest kernel, initramfs or app package missing/refused */
	AVF_E_REFUSED = -21,	  /* the VM refused a vsock connection (nobody listens) */
};

/* Name of an avf_error value ("AVF_E_NOT_FOUND: no such VM"); never NULL. */
AVF_API const char *avf_strerror(int err);

/* Capabilities (VirtualMachineManager.CAPABILITY_*). */
#define AVF_CAPABILITY_PROTECTED_VM 1u
#define AVF_CAPABILITY_NON_PROTECTED_VM 2u

/* VirtualMachine.STATUS_* */
enum avf_status {
	AVF_VM_STATUS_STOPPED = 0,
	AVF_VM_STATUS_RUNNING = 1,
	AVF_VM_STATUS_DELETED = 2,
};

/* VirtualMachineConfig.DEBUG_LEVEL_* */
enum avf_debug_level {
	AVF_DEBUG_LEVEL_NONE = 0,
	AVF_DEBUG_LEVEL_FULL = 1,
};

/* VirtualMachineConfig.CPU_TOPOLOGY_* */
enum avf_cpu_topology {
	AVF_CPU_TOPOLOGY_ONE_CPU = 0,
	AVF_CPU_TOPOLOGY_MATCH_HOST = 1,
};

/* VirtualMachineCallback.ERROR_* */
#define AVF_VM_ERROR_UNKNOWN 0
#define AVF_VM_ERROR_PAYLOAD_VERIFICATION_FAILED 1
#define AVF_VM_ERROR_PAYLOAD_CHANGED 2
#define AVF_VM_ERROR_PAYLOAD_INVALID_CONFIG 3

/* VirtualMachineCallback.STOP_REASON_* (same values as the UAPI). */
#define AVF_VM_STOP_VIRTUALIZATION_SERVICE_DIED (-1)
#define AVF_VM_STOP_INFRASTRUCTURE_ERROR 0
#define AVF_VM_STOP_KILLED 1
#define AVF_VM_STOP_UNKNOWN 2
#define AVF_VM_STOP_SHUTDOWN 3
#define AVF_VM_STOP_START_FAILED 4
#define AVF_VM_STOP_REBOOT 5
#define AVF_VM_STOP_CRASH 6
#define AVF_VM_STOP_MICRODROID_FAILED_TO_CONNECT 11
#define AVF_VM_STOP_MICRODROID_PAYLOAD_HAS_CHANGED 12
#define AVF_VM_STOP_MICRODROID_PAYLOAD_VERIFICATION_FAILED 13
#define AVF_VM_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG 14
#define AVF_VM_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR 15
#define AVF_VM_STOP_HANGUP 16

/* Names for the codes above ("SHUTDOWN", "PAYLOAD_CHANGED"); never NULL. */
AVF_API const char *avf_stop_reason_name(int reason);
AVF_API const char *avf_vm_error_name(int code);
AVF_API const char *avf_status_name(int status);

/* Limits. */
#define AVF_VM_NAME_MAX 63		  /* bytes, without the NUL */
#define AVF_MEMORY_DEFAULT_BYTES (256ull << 20) /* memory 0 means this */

/* ------------------------------------------------------------------ */
/* VirtualMachineConfig(.Builder)                                      */

struct avf_config;
struct avf_config_builder;
struct avf_manager;

/*
 * A builder. @mgr may be NULL; when given, build() also checks the host's
 * capabilities (like Builder(context)). Setters check their argument at
 * once (AVF_E_INVALID); build() checks the rules between fields.
 */
AVF_API int avf_config_builder_new(struct avf_manager *mgr, struct avf_config_builder **out);
/* A builder starting from an existing config. */
AVF_API int avf_config_builder_from(const struct avf_config *cfg,
				    struct avf_config_builder **out);
AVF_API void avf_config_builder_free(struct avf_config_builder *b);
AVF_API const char *avf_config_builder_last_error(const struct avf_config_builder *b);

/* Payload file name inside the package's lib/<abi>/; no '/', 1..255 bytes. */
AVF_API int avf_config_builder_set_payload_binary_name(struct avf_config_builder *b,
						       const char *name);
/* Absolute path of the app package (zip). */
AVF_API int avf_config_builder_set_apk_path(struct avf_config_builder *b, const char *path);
AVF_API int avf_config_builder_set_debug_level(struct avf_config_builder *b,
					       enum avf_debug_level level);
/* Must be called (true or false) before build(). */
AVF_API int avf_config_builder_set_protected_vm(struct avf_config_builder *b, bool protected_vm);
/* >= 1; rounded up to a whole MiB. Never set: 0 = AVF_MEMORY_DEFAULT_BYTES. */
AVF_API int avf_config_builder_set_memory_bytes(struct avf_config_builder *b, uint64_t bytes);
AVF_API int avf_config_builder_set_cpu_topology(struct avf_config_builder *b,
						enum avf_cpu_topology topology);
/* > 0; rounded up to 4 KiB. */
AVF_API int avf_config_builder_set_encrypted_storage_bytes(struct avf_config_builder *b,
							   uint64_t bytes);
/* Console and log capture; requires debug level FULL at build(). */
AVF_API int avf_config_builder_set_vm_output_captured(struct avf_config_builder *b, bool captured);
/*
 * Checks: payload binary name and apk path set, protected VM chosen
 * explicitly (AVF_E_INVALID), protected VM supported when the builder has
 * a manager (AVF_E_NOT_CAPABLE), output capture only with debug FULL
 * (AVF_E_INVALID).
 */
AVF_API int avf_config_builder_build(struct avf_config_builder *b, struct avf_config **out);

AVF_API void avf_config_free(struct avf_config *cfg);
AVF_API int avf_config_dup(const struct avf_config *cfg, struct avf_config **out);
AVF_API const char *avf_config_payload_binary_name(const struct avf_config *cfg);
AVF_API const char *avf_config_apk_path(const struct avf_config *cfg);
AVF_API enum avf_debug_level avf_config_debug_level(const struct avf_config *cfg);
AVF_API bool avf_config_protected_vm(const struct avf_config *cfg);
/* 0 when never set (AVF_MEMORY_DEFAULT_BYTES applies). */
AVF_API uint64_t avf_config_memory_bytes(const struct avf_config *cfg);
AVF_API enum avf_cpu_topology avf_config_cpu_topology(const struct avf_config *cfg);
/* 0 when the VM has no encrypted storage. */
AVF_API uint64_t avf_config_encrypted_storage_bytes(const struct avf_config *cfg);
AVF_API bool avf_config_vm_output_captured(const struct avf_config *cfg);
/* True when only memory and CPU topology differ (or nothing). */
AVF_API bool avf_config_is_compatible_with(const struct avf_config *a, const struct avf_config *b);

/*
 * The instance config file format (Documentation/libavf.rst): serialize
 * to a NUL-terminated malloc'ed string; parse with the same checks as the
 * builder. Parse errors: AVF_E_VERSION (unknown version), AVF_E_CORRUPT
 * (anything else), with a message in *errmsg when errmsg is given
 * (malloc'ed; free it).
 */
AVF_API int avf_config_to_text(const struct avf_config *cfg, char **out);
AVF_API int avf_config_from_text(const char *text, size_t len, struct avf_config **out,
				 char **errmsg);

/* ------------------------------------------------------------------ */
/* VirtualMachineManager                                               */

/*
 * Opens /dev/avf and the data root (NULL: $AVF_DATA_ROOT, else
 * $XDG_DATA_HOME/avf, else $HOME/.local/share/avf; created 0700 when
 * absent). AVF_E_UNSUPPORTED when /dev/avf is absent or speaks another ABI
 * (the analog of getSystemService() returning null); AVF_E_PERMISSION
 * when it cannot be opened. On failure *out is NULL and, when errmsg is
 * given, *errmsg holds a malloc'ed message.
 */
AVF_API int avf_manager_open(const char *data_root, struct avf_manager **out, char **errmsg);
AVF_API void avf_manager_close(struct avf_manager *m);
AVF_API const char *avf_manager_last_error(const struct avf_manager *m);
AVF_API const char *avf_manager_data_root(const struct avf_manager *m);

/* AVF_CAPABILITY_* bits. */
AVF_API int avf_manager_capabilities(struct avf_manager *m, uint32_t *caps);

/* Everything the module reports (for tools). */
struct avf_host_info {
	uint32_t abi_version;
	uint32_t capabilities;	     /* AVF_CAPABILITY_* */
	bool device_secret_persistent; /* UDS from a kernel key */
	uint32_t max_vms_per_owner;
	uint32_t event_queue_len;
};
AVF_API int avf_manager_host_info(struct avf_manager *m, struct avf_host_info *info);

/*
 * Who may run VMs and see their secrets (the trust boundary,
 * Documentation/threat-model.rst). Only a trusted VMM can bind to an
 * instance: avf-vmm installed set-uid to @vmm_uid. In development mode
 * (@owner_is_vmm, a root-set module option) the owner may act as the VMM
 * and so can read its VMs' secrets.
 */
struct avf_host_trust {
	bool trusted_vmm;	/* a trusted VMM uid is set */
	uint32_t vmm_uid;	/* that uid, else UINT32_MAX */
	bool owner_is_vmm;	/* development mode: the owner can read VM secrets */
	uint32_t max_running_per_owner;
	uint32_t max_pending_connects; /* connect_vsock requests in flight per VM */
};
AVF_API int avf_manager_host_trust(struct avf_manager *m, struct avf_host_trust *trust);

/* Names of the VMs in the data root, sorted; free with avf_names_free(). */
AVF_API int avf_manager_list(struct avf_manager *m, char ***names, size_t *count);
AVF_API void avf_names_free(char **names, size_t count);

struct avf_vm;

/*
 * AVF_E_EXISTS when the name is taken. The module seals a new identity
 * over the guest kernel, initramfs and app package (AVF_E_IMAGE when one
 * is missing or refused, AVF_E_BUSY when one is open for writing).
 */
AVF_API int avf_vm_create(struct avf_manager *m, const char *name, const struct avf_config *cfg,
			  struct avf_vm **out);
/* AVF_E_NOT_FOUND when there is no VM of that name (Java: null). */
AVF_API int avf_vm_get(struct avf_manager *m, const char *name, struct avf_vm **out);
/* get(), or create() with @cfg when absent (@cfg is ignored otherwise). */
AVF_API int avf_vm_get_or_create(struct avf_manager *m, const char *name,
				 const struct avf_config *cfg, struct avf_vm **out);
/*
 * Deletes a stopped VM: the module instance (its secret) and the files.
 * Irreversible; every handle then reads DELETED. AVF_E_STATE when running,
 * AVF_E_BUSY when another process holds the instance, AVF_E_NOT_FOUND.
 */
AVF_API int avf_vm_delete(struct avf_manager *m, const char *name);

/* ------------------------------------------------------------------ */
/* VirtualMachine                                                      */

AVF_API const char *avf_vm_name(const struct avf_vm *vm);
AVF_API const char *avf_vm_last_error(const struct avf_vm *vm);
/* The instance directory (<data root>/vm/<name>). */
AVF_API const char *avf_vm_dir(const struct avf_vm *vm);
/* A copy of the current config, read from the instance; free it. */
AVF_API int avf_vm_get_config(struct avf_vm *vm, struct avf_config **out);
/* Writes AVF_VM_STATUS_* to *status. */
AVF_API int avf_vm_status(struct avf_vm *vm, enum avf_status *status);

/* Module view of the instance (for tools). */
struct avf_vm_state {
	enum avf_status status;
	uint32_t cid;		/* 0 when not running */
	uint32_t vmm_pid;	/* 0 when not running */
	int32_t last_stop_reason; /* AVF_VM_STOP_*, or -2 before the first run */
	uint64_t run_count;
	/* Current run, or the last one when stopped (reported by avf-vmm): */
	uint64_t vsock_refused;	/* connections the guest tried to open, refused */
	uint64_t console_dropped; /* kernel console bytes nobody read, dropped */
};
AVF_API int avf_vm_info(struct avf_vm *vm, struct avf_vm_state *info);

/*
 * Output destinations for the next run() when output capture is on:
 * NULL (default) gives pipes readable through avf_vm_console_fd() and
 * avf_vm_log_fd(); a path is opened by run() (appending, created 0600, not
 * through a final symlink) and its fd handed to avf-vmm (useful for VMs
 * that outlive the caller). Set before run().
 */
AVF_API int avf_vm_set_output_paths(struct avf_vm *vm, const char *console, const char *log);

/*
 * Starts the VM (STOPPED only, else AVF_E_STATE): opens every file the VMM
 * needs (boot images, instance.img, storage.img, outputs; never through a
 * final symlink), spawns avf-vmm ($AVF_VMM, else the installed one, else
 * the build tree's) with exactly those fds, an empty environment and no
 * other fd, and returns once the module reports the bind (the RUNNING
 * record). Only a VMM the module trusts can bind. AVF_E_SPAWN when avf-vmm
 * cannot be started or exits before binding (the message has its exit
 * status and the last line of vmm.log); AVF_E_TIMEOUT; AVF_E_IMAGE when a
 * boot image is missing or not a regular file; AVF_E_BUSY when another
 * process holds the instance lock; AVF_E_DELETED. A changed payload is
 * refused by the module at start:
 * on_stopped(AVF_VM_STOP_MICRODROID_PAYLOAD_HAS_CHANGED); instance state of
 * another uid: on_stopped(AVF_VM_STOP_MICRODROID_PAYLOAD_VERIFICATION_FAILED).
 */
AVF_API int avf_vm_run(struct avf_vm *vm);
/* Hard power-off (RUNNING only, else AVF_E_STATE); STOPPED on return. */
AVF_API int avf_vm_stop(struct avf_vm *vm);
/* Stops the VM if running, then frees the handle (VirtualMachine.close()). */
AVF_API void avf_vm_close(struct avf_vm *vm);
/* Frees the handle and leaves a running VM running. */
AVF_API void avf_vm_release(struct avf_vm *vm);

/*
 * Read ends of the console / log of the current or last run, when output
 * capture is on and no path was set (else AVF_E_NO_OUTPUT). The handle
 * owns the fd; EOF comes when avf-vmm exits.
 */
AVF_API int avf_vm_console_fd(struct avf_vm *vm);
AVF_API int avf_vm_log_fd(struct avf_vm *vm);

/*
 * Replaces the config of a STOPPED VM (AVF_E_STATE otherwise) with a
 * compatible one (AVF_E_INCOMPATIBLE otherwise).
 */
AVF_API int avf_vm_set_config(struct avf_vm *vm, const struct avf_config *cfg);

/*
 * VirtualMachine.connectVsock(port): a connected stream fd (blocking,
 * close-on-exec) to @port in the running VM, brokered by the module to the
 * bound VMM (AVF_VM_CONNECT_VSOCK; no socket path). Ports
 * 1024..UINT32_MAX-1 (AVF_E_INVALID). AVF_E_STATE when not running or when
 * the run ended meanwhile; AVF_E_REFUSED when nothing listens there;
 * AVF_E_TIMEOUT when the guest did not answer in 10 s; AVF_E_BUSY when too
 * many requests are in flight; AVF_E_PERMISSION when the calling process's
 * uid is not the VM's owner (even holding the owner's VM fd).
 */
AVF_API int avf_vm_connect_vsock(struct avf_vm *vm, uint32_t port, int *fd);

/* VirtualMachineCallback. Every member may be NULL. */
struct avf_vm_callbacks {
	void (*on_payload_started)(struct avf_vm *vm, void *ctx);
	void (*on_payload_ready)(struct avf_vm *vm, void *ctx);
	void (*on_payload_finished)(struct avf_vm *vm, int exit_code, void *ctx);
	void (*on_error)(struct avf_vm *vm, int error_code, const char *message, void *ctx);
	void (*on_stopped)(struct avf_vm *vm, int reason, void *ctx);
};

enum avf_executor {
	/* Callbacks run on a thread the library owns. */
	AVF_EXECUTOR_THREAD = 0,
	/*
	 * Callbacks run inside avf_vm_dispatch(), called by the caller when
	 * avf_vm_event_fd() polls readable.
	 */
	AVF_EXECUTOR_POLL = 1,
};

/*
 * Installs callbacks (replacing earlier ones). Events of the instance are
 * delivered in the order the module queued them.
 */
AVF_API int avf_vm_set_callback(struct avf_vm *vm, const struct avf_vm_callbacks *cb, void *ctx,
				enum avf_executor executor);
AVF_API int avf_vm_clear_callback(struct avf_vm *vm);
/* The fd to poll (POLLIN) for AVF_EXECUTOR_POLL. */
AVF_API int avf_vm_event_fd(struct avf_vm *vm);
/*
 * Reads every queued event and calls the callbacks; returns the number of
 * events delivered (>= 0) or an error. Never blocks.
 */
AVF_API int avf_vm_dispatch(struct avf_vm *vm);
/*
 * Convenience: waits up to @timeout_ms (-1 forever) for the current run
 * to stop, dispatching events to POLL callbacks on the way. AVF_E_TIMEOUT.
 */
AVF_API int avf_vm_wait_stopped(struct avf_vm *vm, int timeout_ms);

/* ------------------------------------------------------------------ */
/* VirtualMachineDescriptor                                            */

struct avf_descriptor;

/*
 * The instance of a STOPPED VM (else AVF_E_STATE) as a capability:
 * read-only fds of its config, instance_id and storage, and a one-shot
 * transfer object the module made of its sealed state (only the owner can
 * make one: AVF_E_PERMISSION for a state of another uid). Whoever receives
 * it can import it once, as any uid.
 */
AVF_API int avf_vm_to_descriptor(struct avf_vm *vm, struct avf_descriptor **out);
AVF_API void avf_descriptor_free(struct avf_descriptor *d);
/*
 * Over a connected AF_UNIX socket, fds as SCM_RIGHTS (descriptor format
 * version 2). recv: AVF_E_VERSION for an unknown format version,
 * AVF_E_PROTOCOL for anything malformed.
 */
AVF_API int avf_descriptor_send(int sock, const struct avf_descriptor *d);
AVF_API int avf_descriptor_recv(int sock, struct avf_descriptor **out);
/*
 * Creates VM @name as a copy of the described instance (same identity and
 * secret, re-sealed by the module for the caller's uid; a copy of its
 * storage): files copied into a temporary directory and renamed into
 * place; the temporary directory is removed on failure. A descriptor
 * imports once: AVF_E_STATE for one imported already. AVF_E_VERSION for a
 * version-1 descriptor (from an older libavf).
 */
AVF_API int avf_import_from_descriptor(struct avf_manager *m, const char *name,
				       const struct avf_descriptor *d, struct avf_vm **out);

#ifdef __cplusplus
}
#endif

#endif /* AVF_AVF_H */
