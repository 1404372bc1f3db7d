// SPDX-License-Identifier: GPL-2.0
/*
 * VirtualMachineDescriptor: a stopped instance handed to another app (of
 * any uid) as a capability. It carries read-only fds of the config,
 * instance_id and storage.img, and in place of instance.img a one-shot
 * transfer object the module made of the sealed state (AVF_INSTANCE_EXPORT):
 * the importer presents it to the module (AVF_INSTANCE_IMPORT), which
 * re-seals the same identity for the importer's uid. A copy of instance.img
 * is worth nothing to another uid; the descriptor imports once.
 *
 * Wire format (one sendmsg): a 16-byte header
 *   0 4 magic "AVFD"   4 2 version (LE) = 2   6 2 fd count (LE, 3 or 4)
 *   8 4 flags (LE; bit 0: storage.img present)   12 4 reserved, zero
 * with the fds in SCM_RIGHTS, in the order config, instance_id,
 * transfer[, storage.img]. Version 1 (instance.img by value) is received
 * only to be refused with a clear message at import.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define DESC_MAGIC "AVFD"
#define DESC_VERSION 2
#define DESC_VERSION_STATE_BY_VALUE 1
#define DESC_HAS_STORAGE 1u
#define DESC_MAX_FDS 4

struct desc_hdr {
	char magic[4];
	uint16_t version;
	uint16_t nfds;
	uint32_t flags;
	uint32_t reserved;
};

static struct avf_descriptor *desc_new(void)
{
	struct avf_descriptor *d = malloc(sizeof(*d));

	if (d) {
		d->version = DESC_VERSION;
		d->config_fd = d->instance_id_fd = d->transfer_fd = d->storage_fd = -1;
	}
	return d;
}

void avf_descriptor_free(struct avf_descriptor *d)
{
	if (!d)
		return;
	if (d->config_fd >= 0)
		close(d->config_fd);
	if (d->instance_id_fd >= 0)
		close(d->instance_id_fd);
	if (d->transfer_fd >= 0)
		close(d->transfer_fd);
	if (d->storage_fd >= 0)
		close(d->storage_fd);
	free(d);
}

static int open_ro(struct avf_vm *vm, int dirfd, const char *name, int *fd)
{
	*fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0) {
		avf__seterr(vm->err, "to_descriptor: cannot open %s: %s", name, strerror(errno));
		return AVF_E_CORRUPT;
	}
	return AVF_OK;
}

/* The module's one-shot transfer object for the sealed state in @dirfd. */
static int export_state(struct avf_vm *vm, int dirfd, int *fd)
{
	struct avf_instance_export x;
	char *state = NULL;
	size_t len = 0;
	int r, ret;

	ret = avf__read_file(dirfd, AVF_FILE_INSTANCE_IMG, AVF_INSTANCE_STATE_SIZE, &state, &len,
			     vm->err);
	if (ret || len != AVF_INSTANCE_STATE_SIZE) {
		free(state);
		avf__seterr(vm->err, "to_descriptor: instance.img of VM \"%s\" is missing or "
				     "not %d bytes", vm->name, AVF_INSTANCE_STATE_SIZE);
		return AVF_E_CORRUPT;
	}
	memset(&x, 0, sizeof(x));
	x.state = (uint64_t)(uintptr_t)state;
	x.state_size = AVF_INSTANCE_STATE_SIZE;
	r = ioctl(vm->mgr->dev_fd, AVF_INSTANCE_EXPORT, &x);
	memset(state, 0, len);
	free(state);
	if (r >= 0) {
		*fd = r;
		return AVF_OK;
	}
	switch (errno) {
	case EPERM:
		avf__seterr(vm->err, "to_descriptor: instance.img of VM \"%s\" is sealed for "
				     "another uid: only its owner can export it", vm->name);
		return AVF_E_PERMISSION;
	case EBADMSG:
		avf__seterr(vm->err, "to_descriptor: instance.img of VM \"%s\" does not open "
				     "(tampered, or sealed under another device secret)", vm->name);
		return AVF_E_CORRUPT;
	case EPROTONOSUPPORT:
		avf__seterr(vm->err, "to_descriptor: instance.img of VM \"%s\" has a state "
				     "version this module does not know", vm->name);
		return AVF_E_VERSION;
	case ENOTTY:
		avf__seterr(vm->err, "to_descriptor: the avf module cannot export instances "
				     "(too old)");
		return AVF_E_UNSUPPORTED;
	default:
		avf__seterr(vm->err, "AVF_INSTANCE_EXPORT failed: %s", strerror(errno));
		return avf__errno_to_err(errno);
	}
}

int avf_vm_to_descriptor(struct avf_vm *vm, struct avf_descriptor **out)
{
	struct avf_config *cfg = NULL;
	struct avf_descriptor *d = NULL;
	struct avf_vm_state info;
	int lockfd = -1, dirfd = -1, ret;

	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	if (!vm)
		return AVF_E_INVALID;
	ret = avf_vm_info(vm, &info);
	if (ret)
		return ret;
	if (info.status != AVF_VM_STATUS_STOPPED) {
		avf__seterr(vm->err, "to_descriptor: VM \"%s\" is %s, must be STOPPED", vm->name,
			    avf_status_name(info.status));
		return info.status == AVF_VM_STATUS_DELETED ? AVF_E_DELETED : AVF_E_STATE;
	}
	/* Shared: nobody runs or rewrites the instance while we open it. */
	ret = avf__lock_instance(vm->dir, LOCK_SH, &lockfd, vm->err);
	if (ret)
		return ret == AVF_E_NOT_FOUND ? AVF_E_DELETED : ret;
	dirfd = open(vm->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0) {
		ret = AVF_E_DELETED;
		goto out;
	}
	ret = avf__config_load(dirfd, &cfg, vm->err);
	if (ret)
		goto out;
	d = desc_new();
	if (!d) {
		ret = AVF_E_NOMEM;
		goto out;
	}
	ret = open_ro(vm, dirfd, AVF_FILE_CONFIG, &d->config_fd);
	if (!ret)
		ret = open_ro(vm, dirfd, AVF_FILE_INSTANCE_ID, &d->instance_id_fd);
	if (!ret)
		ret = export_state(vm, dirfd, &d->transfer_fd);
	if (!ret && cfg->encrypted_storage_bytes)
		ret = open_ro(vm, dirfd, AVF_FILE_STORAGE_IMG, &d->storage_fd);
	if (ret)
		goto out;
	*out = d;
	d = NULL;
out:
	avf_descriptor_free(d);
	avf_config_free(cfg);
	if (dirfd >= 0)
		close(dirfd);
	close(lockfd);
	return ret;
}

int avf_descriptor_send(int sock, const struct avf_descriptor *d)
{
	struct desc_hdr h;
	union {
		char buf[CMSG_SPACE(sizeof(int) * DESC_MAX_FDS)];
		struct cmsghdr align;
	} u;
	int fds[DESC_MAX_FDS];
	int n = 3;
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t r;

	if (sock < 0 || !d || d->config_fd < 0 || d->instance_id_fd < 0 || d->transfer_fd < 0 ||
	    d->version != DESC_VERSION)
		return AVF_E_INVALID;
	fds[0] = d->config_fd;
	fds[1] = d->instance_id_fd;
	fds[2] = d->transfer_fd;
	if (d->storage_fd >= 0)
		fds[n++] = d->storage_fd;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, DESC_MAGIC, 4);
	h.version = htole16(DESC_VERSION);
	h.nfds = htole16((uint16_t)n);
	h.flags = htole32(d->storage_fd >= 0 ? DESC_HAS_STORAGE : 0);
	iov.iov_base = &h;
	iov.iov_len = sizeof(h);
	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
	do {
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return avf__errno_to_err(errno) == AVF_E_SYSTEM ? AVF_E_IO : avf__errno_to_err(errno);
	if (r != (ssize_t)sizeof(h))
		return AVF_E_IO;
	return AVF_OK;
}

int avf_descriptor_recv(int sock, struct avf_descriptor **out)
{
	struct desc_hdr h;
	union {
		char buf[CMSG_SPACE(sizeof(int) * (DESC_MAX_FDS + 4))];
		struct cmsghdr align;
	} u;
	int fds[DESC_MAX_FDS + 4];
	int nfds = 0, ret = AVF_OK;
	struct avf_descriptor *d;
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t r;

	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	if (sock < 0)
		return AVF_E_INVALID;
	iov.iov_base = &h;
	iov.iov_len = sizeof(h);
	memset(&msg, 0, sizeof(msg));
	memset(&h, 0, sizeof(h));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	do {
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return AVF_E_IO;
	/* Collect every fd we were given, whatever else is wrong. */
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (nfds < (int)(sizeof(fds) / sizeof(fds[0])))
					fds[nfds++] = fd;
				else
					close(fd);
			}
		}
	}
	if (r == (ssize_t)sizeof(h) && !memcmp(h.magic, DESC_MAGIC, 4) &&
	    le16toh(h.version) != DESC_VERSION &&
	    le16toh(h.version) != DESC_VERSION_STATE_BY_VALUE) {
		ret = AVF_E_VERSION;
		goto fail;
	}
	if (r != (ssize_t)sizeof(h) || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) ||
	    memcmp(h.magic, DESC_MAGIC, 4) ||
	    h.reserved || (le32toh(h.flags) & ~DESC_HAS_STORAGE) ||
	    le16toh(h.nfds) != ((le32toh(h.flags) & DESC_HAS_STORAGE) ? 4 : 3) ||
	    nfds != le16toh(h.nfds)) {
		ret = r == 0 ? AVF_E_IO : AVF_E_PROTOCOL;
		goto fail;
	}
	/* Files, but the transfer object (the module checks that at import). */
	for (int i = 0; i < nfds; i++) {
		struct stat st;

		if (i == 2 && le16toh(h.version) == DESC_VERSION)
			continue;
		if (fstat(fds[i], &st) < 0 || !S_ISREG(st.st_mode)) {
			ret = AVF_E_PROTOCOL;
			goto fail;
		}
	}
	d = desc_new();
	if (!d) {
		ret = AVF_E_NOMEM;
		goto fail;
	}
	d->version = le16toh(h.version);
	d->config_fd = fds[0];
	d->instance_id_fd = fds[1];
	d->transfer_fd = fds[2];
	if (nfds == 4)
		d->storage_fd = fds[3];
	*out = d;
	return AVF_OK;
fail:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return ret;
}

/* The state re-sealed for us, in exchange for the transfer object. */
static int import_state(const struct avf_descriptor *d, struct avf_manager *m,
			unsigned char state[AVF_INSTANCE_STATE_SIZE], char *err)
{
	struct avf_instance_import x;

	memset(&x, 0, sizeof(x));
	x.transfer_fd = d->transfer_fd;
	x.state_size = AVF_INSTANCE_STATE_SIZE;
	x.state = (uint64_t)(uintptr_t)state;
	if (ioctl(m->dev_fd, AVF_INSTANCE_IMPORT, &x) == 0)
		return AVF_OK;
	switch (errno) {
	case ESTALE:
		avf__seterr(err, "import: this descriptor was imported already (a descriptor "
				 "imports once; ask for a new one)");
		return AVF_E_STATE;
	case EBADF:
	case EINVAL:
		avf__seterr(err, "import: the descriptor carries no avf transfer object in "
				 "place of the instance state");
		return AVF_E_PROTOCOL;
	case ENOTTY:
		avf__seterr(err, "import: the avf module cannot import instances (too old)");
		return AVF_E_UNSUPPORTED;
	default:
		avf__seterr(err, "AVF_INSTANCE_IMPORT failed: %s", strerror(errno));
		return avf__errno_to_err(errno);
	}
}

/* Checks what we copied, not what the sender claimed. */
static int check_copy(struct avf_manager *m, int dirfd, const struct avf_descriptor *d,
		      char *err)
{
	struct avf_config *c = NULL;
	bool want_storage;
	struct stat st;
	int fd, ret;

	ret = avf__config_load(dirfd, &c, err);
	if (ret)
		return ret;
	want_storage = c->encrypted_storage_bytes != 0;
	if (c->protected_vm && !(m->caps.caps & AVF_CAP_PROTECTED_VM)) {
		avf__seterr(err, "import: protected VMs are not supported on this host");
		avf_config_free(c);
		return AVF_E_NOT_CAPABLE;
	}
	avf_config_free(c);
	if (want_storage != (d->storage_fd >= 0)) {
		avf__seterr(err, "import: the config %s encrypted storage but the "
				 "descriptor %s storage.img",
			    want_storage ? "has" : "has no",
			    d->storage_fd >= 0 ? "carries" : "lacks");
		return AVF_E_CORRUPT;
	}
	fd = openat(dirfd, AVF_FILE_INSTANCE_ID, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return AVF_E_IO;
	if (fstat(fd, &st) < 0 || st.st_size != AVF_INSTANCE_ID_LEN) {
		close(fd);
		avf__seterr(err, "instance_id: not %d bytes", AVF_INSTANCE_ID_LEN);
		return AVF_E_CORRUPT;
	}
	close(fd);
	return AVF_OK;
}

static int stage_import(struct avf_manager *m, int dirfd, const void *varg, char *err)
{
	const struct avf_descriptor *d = varg;
	unsigned char state[AVF_INSTANCE_STATE_SIZE];
	int fd, ret;

	ret = avf__copy_fd(d->config_fd, dirfd, AVF_FILE_CONFIG, false, err);
	if (!ret)
		ret = avf__copy_fd(d->instance_id_fd, dirfd, AVF_FILE_INSTANCE_ID, false, err);
	if (!ret && d->storage_fd >= 0)
		ret = avf__copy_fd(d->storage_fd, dirfd, AVF_FILE_STORAGE_IMG, true, err);
	if (!ret)
		ret = check_copy(m, dirfd, d, err);
	if (ret)
		return ret;
	fd = openat(dirfd, AVF_FILE_LOCK, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		avf__seterr(err, "cannot create the lock file: %s", strerror(errno));
		return AVF_E_IO;
	}
	close(fd);
	/* Last: the transfer object is spent once the module took it. */
	ret = import_state(d, m, state, err);
	if (!ret)
		ret = avf__write_instance_img(dirfd, state, sizeof(state), err);
	memset(state, 0, sizeof(state));
	if (ret)
		return ret;
	return avf__fsync_dir(dirfd, err);
}

int avf_import_from_descriptor(struct avf_manager *m, const char *name,
			       const struct avf_descriptor *d, struct avf_vm **out)
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
	if (!d || d->config_fd < 0 || d->instance_id_fd < 0 || d->transfer_fd < 0) {
		avf__seterr(m->err, "import: incomplete descriptor");
		return AVF_E_INVALID;
	}
	if (d->version == DESC_VERSION_STATE_BY_VALUE) {
		avf__seterr(m->err, "import: descriptor format version 1 (from an older libavf) "
				    "carries instance.img itself, which only its owner's uid can "
				    "run; export it again with this libavf (format version %d)",
			    DESC_VERSION);
		return AVF_E_VERSION;
	}
	return avf__create_common(m, name, stage_import, d, out);
}
