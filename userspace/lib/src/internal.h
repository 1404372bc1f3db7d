/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libavf internals. Not installed.
 */
#ifndef AVF_INTERNAL_H
#define AVF_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <sys/types.h>

#include <avf/avf.h>
#include <linux/avf.h>

#define AVF_ERRMSG_MAX 256

/* Instance files (Documentation/libavf.rst). */
#define AVF_FILE_CONFIG "config"
#define AVF_FILE_INSTANCE_ID "instance_id"
#define AVF_FILE_INSTANCE_IMG "instance.img"
#define AVF_FILE_STORAGE_IMG "storage.img"
#define AVF_FILE_LOCK "lock"
#define AVF_FILE_VMM_LOG "vmm.log"
/* How long connect_vsock waits for the guest to accept (module bound). */
#define AVF_VSOCK_CONNECT_MS AVF_CONNECT_TIMEOUT_DEFAULT_MS
/* Present from create() until the first run has started. */
#define AVF_FILE_NEW_INSTANCE "new_instance"

#define AVF_INSTANCE_ID_LEN 64
#define AVF_CONFIG_FILE_MAX (64 * 1024)
#define AVF_CONFIG_VERSION 1
#define AVF_PATH_MAX 4096
#define AVF_MIB (1ull << 20)
#define AVF_STORAGE_ALIGN 4096ull
/* Largest memory accepted: 1 TiB (avf-vmm takes MiB in an int). */
#define AVF_MEMORY_MAX_BYTES (1ull << 40)
/* Largest encrypted storage accepted: 1 TiB. */
#define AVF_STORAGE_MAX_BYTES (1ull << 40)

/* instance.img is the module's sealed state, exactly this long. */
#define AVF_INSTANCE_IMG_SIZE AVF_INSTANCE_STATE_SIZE

/* How long a call waits for the instance lock. */
#define AVF_LOCK_WAIT_MS 3000

/* How long run() waits for avf-vmm to bind. */
#define AVF_SPAWN_TIMEOUT_MS 20000
/* a stopped run's avf-vmm, at the last release: its teardown, then SIGKILL */
#define AVF_VMM_EXIT_GRACE_MS 10000
/* Records read from a VM fd at a time. */
#define AVF_EVENT_BATCH 16

struct avf_config {
	char *payload_binary_name;
	char *apk_path;
	enum avf_debug_level debug_level;
	bool protected_vm;
	uint64_t memory_bytes;
	enum avf_cpu_topology cpu_topology;
	uint64_t encrypted_storage_bytes;
	bool vm_output_captured;
};

struct avf_config_builder {
	struct avf_config cfg;
	bool protected_set;
	bool have_caps;
	uint32_t caps;
	char err[AVF_ERRMSG_MAX];
};

struct avf_manager {
	int dev_fd;
	char *root;	/* data root */
	char *vm_dir;	/* <root>/vm */
	char *tmp_dir;	/* <root>/tmp */
	struct avf_capabilities caps;
	char err[AVF_ERRMSG_MAX];
};

struct avf_vm {
	struct avf_manager *mgr; /* not owned; must outlive the handle */
	char name[AVF_NAME_MAX];
	char *dir;
	int vm_fd;	/* O_NONBLOCK, O_CLOEXEC */
	pid_t vmm_pid;	/* child we spawned, 0 if none */
	int console_fd;
	int log_fd;
	char *console_path;
	char *log_path;
	char err[AVF_ERRMSG_MAX];

	pthread_mutex_t lock;	/* callbacks, thread state, reading */
	struct avf_vm_callbacks cb;
	void *cb_ctx;
	bool have_cb;
	enum avf_executor executor;
	bool thread_running;
	bool thread_stop;
	pthread_t thread;
	int wake_fd[2];		/* pipe to wake the callback thread */
	bool free_on_exit;	/* released from its own callback thread */
	bool hup;		/* the instance was deleted: no more events */
};

struct avf_descriptor {
	int version;		/* wire format version it arrived in (2 when made here) */
	int config_fd;
	int instance_id_fd;
	int transfer_fd;	/* AVF_INSTANCE_EXPORT object (v1: instance.img) */
	int storage_fd;		/* -1 without storage */
};

/*
 * A program to start with exactly these fds (vm_spawn.c): @stdio become
 * 0, 1 and 2, every fd in @keep (all >= 3) is inherited as it is, every
 * other fd is closed, the environment is empty.
 */
#define AVF_SPAWN_MAX_ARGS 48
#define AVF_SPAWN_MAX_FDS 12
struct avf_spawn {
	const char *path;
	char *argv[AVF_SPAWN_MAX_ARGS];
	int argc;
	int stdio[3];
	int keep[AVF_SPAWN_MAX_FDS];
	int nkeep;
	char nums[AVF_SPAWN_MAX_FDS][12]; /* text of the fd numbers in argv */
	bool overflow;
};

/* error.c */
void avf__seterr(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int avf__errno_to_err(int e);
char *avf__strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* config.c */
int avf__config_validate(const struct avf_config *cfg, char *err);
void avf__config_builder_set_caps(struct avf_config_builder *b, uint32_t caps);
uint64_t avf__config_memory_mib(const struct avf_config *cfg);

/* fileutil.c: all return AVF_OK or a negative avf_error, message in err. */
int avf__write_file_atomic(int dirfd, const char *name, const void *data, size_t len,
			   char *err);
int avf__read_file(int dirfd, const char *name, size_t max, char **data, size_t *len,
		   char *err);
int avf__fsync_dir(int dirfd, char *err);
int avf__fsync_path_dir(const char *path, char *err);
int avf__mkdir_p(const char *path, mode_t mode, char *err);
int avf__rm_rf(const char *path);
int avf__copy_fd(int src, int dstdir, const char *name, bool sparse, char *err);
int avf__create_sparse(int dirfd, const char *name, uint64_t size, char *err);
int avf__valid_name(const char *name, char *err);
int avf__write_instance_img(int dirfd, const void *sealed, size_t len, char *err);
int avf__write_marker(int dirfd, const char *name, char *err);
int avf__check_instance_img(int fd, char *err);
int avf__lock_instance(const char *dir, int how, int *lockfd, char *err);

/* config_file.c */
int avf__config_load(int dirfd, struct avf_config **out, char *err);
int avf__config_store(int dirfd, const struct avf_config *cfg, char *err);

/* manager.c */
int avf__module_open(struct avf_manager *m, const char *name, uint32_t flags, int *fd,
		     char *err);
int avf__vm_new(struct avf_manager *m, const char *name, struct avf_vm **out);
int avf__populate_instance(struct avf_manager *m, int dirfd, const struct avf_config *cfg,
			   char *err);
int avf__create_common(struct avf_manager *m, const char *name,
		       int (*stage)(struct avf_manager *m, int dirfd, const void *arg, char *err),
		       const void *arg, struct avf_vm **out);

/* identity.c */
int avf__open_image(const char *what, const char *env, const char *path, int *fd, char *err);
int avf__seal_instance(struct avf_manager *m, const struct avf_config *cfg,
		       unsigned char blob[AVF_INSTANCE_STATE_SIZE], char *err);
uint32_t avf__debug_level(const struct avf_config *cfg);

/* vm.c */
long avf__now_ms(void);
void avf__sleep_ms(long ms);
void avf__close_fd(int *fd);
int avf__vm_get_info(struct avf_vm *vm, struct avf_vm_state *out);
int avf__vm_open_dir(struct avf_vm *vm, int *dirfd);
int avf__vm_require_status(struct avf_vm *vm, enum avf_status want, const char *what);
bool avf__vm_reap(struct avf_vm *vm, long ms);
void avf__vm_kill_reap(struct avf_vm *vm);
int avf__kill_child(pid_t pid, int pidfd);
void avf__vm_free(struct avf_vm *vm);

/* vm_events.c */
int avf__vm_dispatch_all(struct avf_vm *vm);
void avf__vm_drain_events(struct avf_vm *vm);
bool avf__vm_stop_thread(struct avf_vm *vm);

/* vm_spawn.c */
void avf__spawn_init(struct avf_spawn *s, const char *path);
void avf__spawn_arg(struct avf_spawn *s, const char *arg);
void avf__spawn_fd_arg(struct avf_spawn *s, const char *opt, int fd);
int avf__spawn_start(const struct avf_spawn *s, pid_t *pid, char *err);
int avf__pidfd_open(pid_t pid);
int avf__high_fd(int fd);
int avf__vm_run(struct avf_vm *vm);

/* locate.c */
const char *avf__vmm_path(void);
const char *avf__guest_kernel_path(void);
const char *avf__guest_initrd_path(void);

#endif /* AVF_INTERNAL_H */
