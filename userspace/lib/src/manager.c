// SPDX-License-Identifier: GPL-2.0
/*
 * VirtualMachineManager: /dev/avf, the data root, create/get/delete/list.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define AVF_DEVICE "/dev/avf"

static char *default_root(void)
{
	const char *v = getenv("AVF_DATA_ROOT");

	if (v && *v)
		return strdup(v);
	v = getenv("XDG_DATA_HOME");
	if (v && v[0] == '/')
		return avf__strdup_printf("%s/avf", v);
	v = getenv("HOME");
	if (v && v[0] == '/')
		return avf__strdup_printf("%s/.local/share/avf", v);
	return NULL;
}

static void set_errmsg(char **errmsg, const char *msg)
{
	if (errmsg)
		*errmsg = strdup(msg);
}

/*
 * Removes what a crashed create, import or delete left in <root>/tmp. Only
 * entries untouched for an hour: another process may be staging right now.
 */
static void clean_stale_tmp(struct avf_manager *m)
{
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d = opendir(m->tmp_dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;
		char *p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_mtime > now - 3600)
			continue;
		p = avf__strdup_printf("%s/%s", m->tmp_dir, de->d_name);
		if (p)
			avf__rm_rf(p);
		free(p);
	}
	closedir(d);
}

int avf_manager_open(const char *data_root, struct avf_manager **out, char **errmsg)
{
	struct avf_manager *m;
	char err[AVF_ERRMSG_MAX] = "";
	int ret, e;

	if (errmsg)
		*errmsg = NULL;
	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return AVF_E_NOMEM;
	m->dev_fd = -1;
	m->root = data_root ? strdup(data_root) : default_root();
	if (!m->root) {
		avf__seterr(err, data_root ? "out of memory"
					   : "no data root: set AVF_DATA_ROOT, XDG_DATA_HOME or HOME");
		ret = data_root ? AVF_E_NOMEM : AVF_E_INVALID;
		goto fail;
	}
	if (m->root[0] != '/') {
		avf__seterr(err, "data root must be an absolute path: %s", m->root);
		ret = AVF_E_INVALID;
		goto fail;
	}
	m->vm_dir = avf__strdup_printf("%s/vm", m->root);
	m->tmp_dir = avf__strdup_printf("%s/tmp", m->root);
	if (!m->vm_dir || !m->tmp_dir) {
		ret = AVF_E_NOMEM;
		goto fail;
	}

	m->dev_fd = open(AVF_DEVICE, O_RDWR | O_CLOEXEC);
	if (m->dev_fd < 0) {
		e = errno;
		if (e == ENOENT || e == ENODEV || e == ENXIO) {
			avf__seterr(err, "AVF is not supported: %s is absent (is avf.ko loaded?)",
				    AVF_DEVICE);
			ret = AVF_E_UNSUPPORTED;
		} else {
			avf__seterr(err, "cannot open %s: %s", AVF_DEVICE, strerror(e));
			ret = avf__errno_to_err(e);
		}
		goto fail;
	}
	if (ioctl(m->dev_fd, AVF_GET_CAPABILITIES, &m->caps) < 0) {
		e = errno;
		avf__seterr(err, "AVF_GET_CAPABILITIES failed: %s", strerror(e));
		ret = e == ENOTTY ? AVF_E_UNSUPPORTED : avf__errno_to_err(e);
		goto fail;
	}
	if (m->caps.abi_version != AVF_ABI_VERSION) {
		avf__seterr(err, "AVF is not supported: module ABI %u, libavf needs %u",
			    m->caps.abi_version, AVF_ABI_VERSION);
		ret = AVF_E_UNSUPPORTED;
		goto fail;
	}
	ret = avf__mkdir_p(m->vm_dir, 0700, err);
	if (!ret)
		ret = avf__mkdir_p(m->tmp_dir, 0700, err);
	if (ret)
		goto fail;
	clean_stale_tmp(m);
	*out = m;
	return AVF_OK;
fail:
	set_errmsg(errmsg, err);
	avf_manager_close(m);
	return ret;
}

void avf_manager_close(struct avf_manager *m)
{
	if (!m)
		return;
	if (m->dev_fd >= 0)
		close(m->dev_fd);
	free(m->root);
	free(m->vm_dir);
	free(m->tmp_dir);
	free(m);
}

const char *avf_manager_last_error(const struct avf_manager *m)
{
	return m ? m->err : "no manager";
}

const char *avf_manager_data_root(const struct avf_manager *m)
{
	return m ? m->root : NULL;
}

int avf_manager_capabilities(struct avf_manager *m, uint32_t *caps)
{
	if (!m || !caps)
		return AVF_E_INVALID;
	if (ioctl(m->dev_fd, AVF_GET_CAPABILITIES, &m->caps) < 0) {
		int e = errno;

		avf__seterr(m->err, "AVF_GET_CAPABILITIES failed: %s", strerror(e));
		return avf__errno_to_err(e);
	}
	*caps = m->caps.caps & (AVF_CAPABILITY_PROTECTED_VM | AVF_CAPABILITY_NON_PROTECTED_VM);
	return AVF_OK;
}

int avf_manager_host_info(struct avf_manager *m, struct avf_host_info *info)
{
	uint32_t caps;
	int ret;

	if (!m || !info)
		return AVF_E_INVALID;
	ret = avf_manager_capabilities(m, &caps);
	if (ret)
		return ret;
	memset(info, 0, sizeof(*info));
	info->abi_version = m->caps.abi_version;
	info->capabilities = caps;
	info->device_secret_persistent = m->caps.flags & AVF_CAPS_UDS_PERSISTENT;
	info->max_vms_per_owner = m->caps.max_vms_per_owner;
	info->event_queue_len = m->caps.event_queue_len;
	return AVF_OK;
}

int avf_manager_host_trust(struct avf_manager *m, struct avf_host_trust *trust)
{
	uint32_t caps;
	int ret;

	if (!m || !trust)
		return AVF_E_INVALID;
	ret = avf_manager_capabilities(m, &caps); /* refreshes m->caps */
	if (ret)
		return ret;
	memset(trust, 0, sizeof(*trust));
	trust->trusted_vmm = (m->caps.flags & AVF_CAPS_TRUSTED_VMM) &&
			     m->caps.vmm_uid != AVF_VMM_UID_NONE;
	trust->vmm_uid = trust->trusted_vmm ? m->caps.vmm_uid : UINT32_MAX;
	trust->owner_is_vmm = m->caps.flags & AVF_CAPS_OWNER_IS_VMM;
	trust->max_running_per_owner = m->caps.max_running_per_owner;
	trust->max_pending_connects = m->caps.max_pending_connects;
	return AVF_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void avf_names_free(char **names, size_t count)
{
	if (!names)
		return;
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int avf_manager_list(struct avf_manager *m, char ***names, size_t *count)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!m || !names || !count)
		return AVF_E_INVALID;
	*names = NULL;
	*count = 0;
	d = opendir(m->vm_dir);
	if (!d) {
		int e = errno;

		avf__seterr(m->err, "cannot read %s: %s", m->vm_dir, strerror(e));
		return avf__errno_to_err(e);
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			char **nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		v[n] = strdup(de->d_name);
		if (!v[n])
			goto nomem;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*names = v;
	*count = n;
	return AVF_OK;
nomem:
	closedir(d);
	avf_names_free(v, n);
	return AVF_E_NOMEM;
}

int avf__module_open(struct avf_manager *m, const char *name, uint32_t flags, int *fd, char *err)
{
	struct avf_vm_open op;
	int r;

	memset(&op, 0, sizeof(op));
	op.flags = flags;
	snprintf(op.name, sizeof(op.name), "%s", name);
	r = ioctl(m->dev_fd, AVF_VM_OPEN, &op);
	if (r < 0) {
		int e = errno;

		if (e == EEXIST) {
			avf__seterr(err, "the module already has an instance named \"%s\" "
					 "(created from another data root?); delete it first", name);
			return AVF_E_EXISTS;
		}
		if (e == ENOENT) {
			avf__seterr(err, "the module has no instance named \"%s\"", name);
			return AVF_E_NOT_FOUND;
		}
		avf__seterr(err, "AVF_VM_OPEN \"%s\" failed: %s", name, strerror(e));
		return e == ENOSPC || e == EDQUOT ? AVF_E_BUSY : avf__errno_to_err(e);
	}
	*fd = r;
	if (fcntl(r, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(r, F_SETFL, fcntl(r, F_GETFL) | O_NONBLOCK) < 0) {
		int e = errno;

		close(r);
		*fd = -1;
		avf__seterr(err, "fcntl on VM fd failed: %s", strerror(e));
		return AVF_E_SYSTEM;
	}
	return AVF_OK;
}

int avf__vm_new(struct avf_manager *m, const char *name, struct avf_vm **out)
{
	struct avf_vm *vm = calloc(1, sizeof(*vm));

	*out = NULL;
	if (!vm)
		return AVF_E_NOMEM;
	vm->mgr = m;
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	vm->dir = avf__strdup_printf("%s/%s", m->vm_dir, name);
	if (!vm->dir) {
		free(vm);
		return AVF_E_NOMEM;
	}
	vm->vm_fd = -1;
	vm->console_fd = -1;
	vm->log_fd = -1;
	vm->wake_fd[0] = vm->wake_fd[1] = -1;
	pthread_mutex_init(&vm->lock, NULL);
	*out = vm;
	return AVF_OK;
}

/* Writes every instance file for @cfg into the (empty) directory @dirfd. */
int avf__populate_instance(struct avf_manager *m, int dirfd, const struct avf_config *cfg,
			   char *err)
{
	unsigned char id[AVF_INSTANCE_ID_LEN];
	unsigned char state[AVF_INSTANCE_STATE_SIZE];
	size_t got = 0;
	int ret, fd;

	/* The module measures the boot images and seals a new identity. */
	ret = avf__seal_instance(m, cfg, state, err);
	if (ret)
		return ret;
	while (got < sizeof(id)) {
		ssize_t n = getrandom(id + got, sizeof(id) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			avf__seterr(err, "getrandom failed: %s", strerror(errno));
			return AVF_E_SYSTEM;
		}
		got += (size_t)n;
	}
	ret = avf__config_store(dirfd, cfg, err);
	if (!ret)
		ret = avf__write_file_atomic(dirfd, AVF_FILE_INSTANCE_ID, id, sizeof(id), err);
	if (!ret)
		ret = avf__write_instance_img(dirfd, state, sizeof(state), err);
	memset(state, 0, sizeof(state));
	if (!ret)
		ret = avf__write_marker(dirfd, AVF_FILE_NEW_INSTANCE, err);
	if (!ret && cfg->encrypted_storage_bytes)
		ret = avf__create_sparse(dirfd, AVF_FILE_STORAGE_IMG, cfg->encrypted_storage_bytes,
					 err);
	if (ret)
		return ret;
	fd = openat(dirfd, AVF_FILE_LOCK, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		avf__seterr(err, "cannot create the lock file: %s", strerror(errno));
		return AVF_E_IO;
	}
	close(fd);
	return avf__fsync_dir(dirfd, err);
}

/* Makes <root>/tmp/<prefix>-<name>-XXXXXX; returns its malloc'ed path. */
static char *make_tmp_dir(struct avf_manager *m, const char *prefix, const char *name, char *err)
{
	char *path = avf__strdup_printf("%s/%s-%s-XXXXXX", m->tmp_dir, prefix, name);

	if (!path)
		return NULL;
	if (!mkdtemp(path)) {
		avf__seterr(err, "cannot create a temporary directory in %s: %s", m->tmp_dir,
			    strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}

/*
 * Moves the staged directory @tmp to vm/<name> (atomic, fails when the
 * name exists) and syncs both parents.
 */
static int commit_dir(struct avf_manager *m, const char *tmp, const char *name, char *err)
{
	char *dst = avf__strdup_printf("%s/%s", m->vm_dir, name);
	int ret;

	if (!dst)
		return AVF_E_NOMEM;
	if (avf__fsync_path_dir(tmp, err)) {
		free(dst);
		return AVF_E_IO;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
		int e = errno;

		if (e == EEXIST || e == ENOTEMPTY) {
			avf__seterr(err, "a VM named \"%s\" already exists", name);
			ret = AVF_E_EXISTS;
		} else {
			avf__seterr(err, "cannot rename %s to %s: %s", tmp, dst, strerror(e));
			ret = avf__errno_to_err(e);
		}
		free(dst);
		return ret;
	}
	free(dst);
	ret = avf__fsync_path_dir(m->vm_dir, err);
	if (!ret)
		ret = avf__fsync_path_dir(m->tmp_dir, err);
	return ret;
}

static int check_caps(struct avf_manager *m, const struct avf_config *cfg, char *err)
{
	uint32_t need = cfg->protected_vm ? AVF_CAP_PROTECTED_VM : AVF_CAP_NON_PROTECTED_VM;

	if (!(m->caps.caps & need)) {
		avf__seterr(err, "%s VMs are not supported on this host",
			    cfg->protected_vm ? "protected" : "non-protected");
		return AVF_E_NOT_CAPABLE;
	}
	return AVF_OK;
}

static bool dir_exists(struct avf_manager *m, const char *name)
{
	struct stat st;
	char *p = avf__strdup_printf("%s/%s", m->vm_dir, name);
	bool r;

	if (!p)
		return false;
	r = lstat(p, &st) == 0;
	free(p);
	return r;
}

/*
 * Creates the module instance and the files. @stage fills a staged
 * directory (populate for create, copy for import).
 */
int avf__create_common(struct avf_manager *m, const char *name,
		       int (*stage)(struct avf_manager *m, int dirfd, const void *arg, char *err),
		       const void *arg, struct avf_vm **out)
{
	struct avf_vm *vm = NULL;
	char *tmp = NULL;
	int fd = -1, dirfd = -1, ret;

	if (dir_exists(m, name)) {
		avf__seterr(m->err, "a VM named \"%s\" already exists", name);
		return AVF_E_EXISTS;
	}
	ret = avf__module_open(m, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL, &fd, m->err);
	if (ret)
		return ret;
	tmp = make_tmp_dir(m, "new", name, m->err);
	if (!tmp) {
		ret = AVF_E_IO;
		goto fail;
	}
	dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		avf__seterr(m->err, "cannot open %s: %s", tmp, strerror(errno));
		ret = AVF_E_IO;
		goto fail;
	}
	ret = stage(m, dirfd, arg, m->err);
	if (ret)
		goto fail;
	ret = commit_dir(m, tmp, name, m->err);
	if (ret)
		goto fail;
	close(dirfd);
	free(tmp);
	ret = avf__vm_new(m, name, &vm);
	if (ret) {
		close(fd);
		return ret;
	}
	vm->vm_fd = fd;
	*out = vm;
	return AVF_OK;
fail:
	if (dirfd >= 0)
		close(dirfd);
	if (tmp) {
		avf__rm_rf(tmp);
		free(tmp);
	}
	ioctl(fd, AVF_VM_DELETE, 0);
	close(fd);
	return ret;
}

static int stage_new(struct avf_manager *m, int dirfd, const void *arg, char *err)
{
	return avf__populate_instance(m, dirfd, arg, err);
}

int avf_vm_create(struct avf_manager *m, const char *name, const struct avf_config *cfg,
		  struct avf_vm **out)
{
	int ret;

	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	if (!m)
		return AVF_E_INVALID;
	ret = avf__valid_name(name, m->err);
	if (ret)
		return ret;
	if (!cfg) {
		avf__seterr(m->err, "config is NULL");
		return AVF_E_INVALID;
	}
	ret = avf__config_validate(cfg, m->err);
	if (ret)
		return ret;
	ret = check_caps(m, cfg, m->err);
	if (ret)
		return ret;
	return avf__create_common(m, name, stage_new, cfg, out);
}

int avf_vm_get(struct avf_manager *m, const char *name, struct avf_vm **out)
{
	struct avf_config *cfg = NULL;
	struct avf_vm *vm;
	char *path;
	int dirfd, fd, ret;

	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	if (!m)
		return AVF_E_INVALID;
	ret = avf__valid_name(name, m->err);
	if (ret)
		return ret;
	path = avf__strdup_printf("%s/%s", m->vm_dir, name);
	if (!path)
		return AVF_E_NOMEM;
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (dirfd < 0) {
		int e = errno;

		if (e == ENOENT) {
			avf__seterr(m->err, "no VM named \"%s\" in %s", name, m->root);
			return AVF_E_NOT_FOUND;
		}
		avf__seterr(m->err, "cannot open VM \"%s\": %s", name, strerror(e));
		return avf__errno_to_err(e);
	}
	ret = avf__config_load(dirfd, &cfg, m->err);
	if (ret == AVF_E_NOT_FOUND) {
		avf__seterr(m->err, "VM \"%s\" has no config file (incomplete instance)", name);
		ret = AVF_E_CORRUPT;
	}
	if (!ret) {
		fd = openat(dirfd, AVF_FILE_INSTANCE_IMG, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			avf__seterr(m->err, "VM \"%s\": instance.img missing", name);
			ret = AVF_E_CORRUPT;
		} else {
			ret = avf__check_instance_img(fd, m->err);
			close(fd);
		}
	}
	close(dirfd);
	avf_config_free(cfg);
	if (ret)
		return ret;
	/* Module instances vanish on reload/reboot; the files persist. */
	ret = avf__module_open(m, name, AVF_OPEN_CREATE, &fd, m->err);
	if (ret)
		return ret;
	ret = avf__vm_new(m, name, &vm);
	if (ret) {
		close(fd);
		return ret;
	}
	vm->vm_fd = fd;
	*out = vm;
	return AVF_OK;
}

int avf_vm_get_or_create(struct avf_manager *m, const char *name, const struct avf_config *cfg,
			 struct avf_vm **out)
{
	int ret;

	for (int tries = 0; tries < 3; tries++) {
		ret = avf_vm_get(m, name, out);
		if (ret != AVF_E_NOT_FOUND)
			return ret;
		ret = avf_vm_create(m, name, cfg, out);
		/* Lost a race with another creator: get it. */
		if (ret != AVF_E_EXISTS || !dir_exists(m, name))
			return ret;
	}
	return ret;
}

int avf_vm_delete(struct avf_manager *m, const char *name)
{
	struct avf_vm_info info;
	char *dir = NULL, *moved = NULL;
	int fd = -1, lockfd = -1, ret;
	bool have_dir;

	if (!m)
		return AVF_E_INVALID;
	ret = avf__valid_name(name, m->err);
	if (ret)
		return ret;
	have_dir = dir_exists(m, name);
	ret = avf__module_open(m, name, 0, &fd, m->err);
	if (ret == AVF_E_NOT_FOUND && !have_dir) {
		avf__seterr(m->err, "no VM named \"%s\"", name);
		return AVF_E_NOT_FOUND;
	}
	if (ret && ret != AVF_E_NOT_FOUND)
		return ret;
	if (fd >= 0) {
		memset(&info, 0, sizeof(info));
		if (ioctl(fd, AVF_VM_GET_INFO, &info) == 0 && info.status == AVF_STATUS_RUNNING) {
			avf__seterr(m->err, "VM \"%s\" is running; stop it before deleting", name);
			ret = AVF_E_STATE;
			goto out;
		}
	}
	if (have_dir) {
		dir = avf__strdup_printf("%s/%s", m->vm_dir, name);
		moved = make_tmp_dir(m, "del", name, m->err);
		if (!dir || !moved) {
			ret = dir ? AVF_E_IO : AVF_E_NOMEM;
			goto out;
		}
		ret = avf__lock_instance(dir, LOCK_EX, &lockfd, m->err);
		if (ret)
			goto out;
		/* Move the instance out of sight first, atomically. */
		if (rename(dir, moved) < 0) {
			avf__seterr(m->err, "cannot move %s away: %s", dir, strerror(errno));
			ret = avf__errno_to_err(errno);
			goto out;
		}
	}
	if (fd >= 0 && ioctl(fd, AVF_VM_DELETE, 0) < 0) {
		int e = errno;

		if (have_dir)
			rename(moved, dir);
		if (e == EBUSY) {
			avf__seterr(m->err, "VM \"%s\" is running; stop it before deleting", name);
			ret = AVF_E_STATE;
		} else if (e == EIDRM) {
			ret = AVF_OK; /* deleted meanwhile */
		} else {
			avf__seterr(m->err, "AVF_VM_DELETE failed: %s", strerror(e));
			ret = avf__errno_to_err(e);
		}
		if (ret)
			goto out;
	}
	if (have_dir) {
		avf__rm_rf(moved);
		ret = avf__fsync_path_dir(m->vm_dir, m->err);
		if (!ret)
			ret = avf__fsync_path_dir(m->tmp_dir, m->err);
	}
out:
	if (lockfd >= 0)
		close(lockfd);
	if (moved && ret)
		rmdir(moved); /* the empty placeholder, if the move did not happen */
	if (fd >= 0)
		close(fd);
	free(dir);
	free(moved);
	return ret;
}
