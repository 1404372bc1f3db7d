// SPDX-License-Identifier: GPL-2.0
/*
 * Files: atomic replacement (temp, fsync, rename, fsync dir; any fsync
 * error fails), bounded reads, sparse copies, the instance lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int avf__fsync_dir(int dirfd, char *err)
{
	if (fsync(dirfd) < 0) {
		int e = errno;

		avf__seterr(err, "fsync of directory failed: %s", strerror(e));
		return AVF_E_IO;
	}
	return AVF_OK;
}

int avf__fsync_path_dir(const char *path, char *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0) {
		int e = errno;

		avf__seterr(err, "cannot open %s: %s", path, strerror(e));
		return avf__errno_to_err(e);
	}
	ret = avf__fsync_dir(fd, err);
	close(fd);
	return ret;
}

static void tmp_name(char *buf, size_t len, const char *name)
{
	unsigned int r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned int)getpid();
	snprintf(buf, len, ".%s.tmp.%08x", name, r);
}

int avf__write_file_atomic(int dirfd, const char *name, const void *data, size_t len, char *err)
{
	char tmp[NAME_MAX + 1];
	int fd, e;

	tmp_name(tmp, sizeof(tmp), name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		avf__seterr(err, "cannot create %s: %s", tmp, strerror(e));
		return avf__errno_to_err(e);
	}
	if (write_all(fd, data, len) < 0) {
		e = errno;
		avf__seterr(err, "cannot write %s: %s", name, strerror(e));
		goto fail;
	}
	if (fsync(fd) < 0) {
		e = errno;
		avf__seterr(err, "fsync of %s failed: %s", name, strerror(e));
		goto fail;
	}
	if (close(fd) < 0) {
		e = errno;
		fd = -1;
		avf__seterr(err, "close of %s failed: %s", name, strerror(e));
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		e = errno;
		avf__seterr(err, "cannot rename %s to %s: %s", tmp, name, strerror(e));
		goto fail;
	}
	return avf__fsync_dir(dirfd, err);
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return e == ENOSPC || e == EIO || e == EDQUOT ? AVF_E_IO : avf__errno_to_err(e);
}

int avf__read_file(int dirfd, const char *name, size_t max, char **data, size_t *len, char *err)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, e;

	*data = NULL;
	*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		e = errno;
		avf__seterr(err, "cannot open %s: %s", name, strerror(e));
		return avf__errno_to_err(e);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		avf__seterr(err, "%s is not a regular file", name);
		close(fd);
		return AVF_E_CORRUPT;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return AVF_E_INVALID;
	}
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return AVF_E_NOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, max + 1 - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			avf__seterr(err, "cannot read %s: %s", name, strerror(e));
			free(buf);
			close(fd);
			return AVF_E_IO;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			free(buf);
			close(fd);
			return AVF_E_INVALID;
		}
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return AVF_OK;
}

int avf__mkdir_p(const char *path, mode_t mode, char *err)
{
	char buf[AVF_PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		avf__seterr(err, "bad directory path");
		return AVF_E_INVALID;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST) {
				int e = errno;

				avf__seterr(err, "cannot create directory %s: %s", buf, strerror(e));
				return avf__errno_to_err(e);
			}
			*p = c;
			if (!c)
				break;
		}
	}
	return AVF_OK;
}

static int rm_rf_at(int parent, const char *name, int depth)
{
	int fd;
	DIR *d;
	struct dirent *de;

	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if (depth > 8)
		return -1;
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rm_rf_at(dirfd(d), de->d_name, depth + 1);
	}
	closedir(d);
	return unlinkat(parent, name, AT_REMOVEDIR);
}

int avf__rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path, 0);
}

/* Copies @src (from offset 0, holes kept when @sparse) into dstdir/name. */
int avf__copy_fd(int src, int dstdir, const char *name, bool sparse, char *err)
{
	struct stat st;
	char *buf;
	off_t off = 0;
	int dst, e = 0;
	const size_t bufsz = 1 << 16;

	if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
		avf__seterr(err, "descriptor entry for %s is not a regular file", name);
		return AVF_E_INVALID;
	}
	dst = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (dst < 0) {
		e = errno;
		avf__seterr(err, "cannot create %s: %s", name, strerror(e));
		return avf__errno_to_err(e);
	}
	buf = malloc(bufsz);
	if (!buf) {
		close(dst);
		return AVF_E_NOMEM;
	}
	while (off < st.st_size) {
		off_t data = off, hole = st.st_size;

		if (sparse) {
			data = lseek(src, off, SEEK_DATA);
			if (data < 0) {
				if (errno == ENXIO)
					break; /* only a hole remains */
				data = off;
			} else {
				hole = lseek(src, data, SEEK_HOLE);
				if (hole < 0)
					hole = st.st_size;
			}
		}
		off = data;
		while (off < hole) {
			size_t want = (size_t)(hole - off) < bufsz ? (size_t)(hole - off) : bufsz;
			ssize_t n = pread(src, buf, want, off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				e = n < 0 ? errno : EIO;
				avf__seterr(err, "cannot read source of %s: %s", name,
					    n < 0 ? strerror(e) : "file shrank");
				goto fail;
			}
			if (pwrite(dst, buf, (size_t)n, off) != n) {
				e = errno ? errno : EIO;
				avf__seterr(err, "cannot write %s: %s", name, strerror(e));
				goto fail;
			}
			off += n;
		}
	}
	if (ftruncate(dst, st.st_size) < 0) {
		e = errno;
		avf__seterr(err, "cannot size %s: %s", name, strerror(e));
		goto fail;
	}
	if (fsync(dst) < 0) {
		e = errno;
		avf__seterr(err, "fsync of %s failed: %s", name, strerror(e));
		goto fail;
	}
	free(buf);
	if (close(dst) < 0) {
		e = errno;
		avf__seterr(err, "close of %s failed: %s", name, strerror(e));
		return AVF_E_IO;
	}
	return AVF_OK;
fail:
	free(buf);
	close(dst);
	return AVF_E_IO;
}

int avf__create_sparse(int dirfd, const char *name, uint64_t size, char *err)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int e;

	if (fd < 0) {
		e = errno;
		avf__seterr(err, "cannot create %s: %s", name, strerror(e));
		return avf__errno_to_err(e);
	}
	if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0) {
		e = errno;
		avf__seterr(err, "cannot size %s to %llu bytes: %s", name,
			    (unsigned long long)size, strerror(e));
		close(fd);
		unlinkat(dirfd, name, 0);
		return AVF_E_IO;
	}
	if (close(fd) < 0) {
		e = errno;
		avf__seterr(err, "close of %s failed: %s", name, strerror(e));
		return AVF_E_IO;
	}
	return AVF_OK;
}

int avf__valid_name(const char *name, char *err)
{
	size_t len;

	if (!name) {
		avf__seterr(err, "VM name is NULL");
		return AVF_E_INVALID;
	}
	len = strlen(name);
	if (len == 0 || len > AVF_VM_NAME_MAX) {
		avf__seterr(err, "VM name must be 1..%d bytes", AVF_VM_NAME_MAX);
		return AVF_E_INVALID;
	}
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		avf__seterr(err, "invalid VM name \"%s\": no '/', not \".\" or \"..\"", name);
		return AVF_E_INVALID;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			avf__seterr(err, "VM name contains a control character");
			return AVF_E_INVALID;
		}
	}
	return AVF_OK;
}

/*
 * instance.img holds the module's sealed instance state: exactly
 * AVF_INSTANCE_STATE_SIZE opaque bytes (AEAD-sealed by the module, which
 * rejects a forged or altered one). Userspace only checks the size, which
 * catches truncation; the atomic write rules out torn files.
 */
int avf__write_instance_img(int dirfd, const void *sealed, size_t len, char *err)
{
	if (!sealed || len != AVF_INSTANCE_IMG_SIZE) {
		avf__seterr(err, "sealed instance state must be %d bytes", AVF_INSTANCE_IMG_SIZE);
		return AVF_E_INVALID;
	}
	return avf__write_file_atomic(dirfd, AVF_FILE_INSTANCE_IMG, sealed, len, err);
}

int avf__check_instance_img(int fd, char *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		avf__seterr(err, "instance.img: not a regular file");
		return AVF_E_CORRUPT;
	}
	if (st.st_size != AVF_INSTANCE_IMG_SIZE) {
		avf__seterr(err, "instance.img: %lld bytes, expected %d (truncated or not ours)",
			    (long long)st.st_size, AVF_INSTANCE_IMG_SIZE);
		return AVF_E_CORRUPT;
	}
	return AVF_OK;
}

/* An empty file, created atomically. */
int avf__write_marker(int dirfd, const char *name, char *err)
{
	return avf__write_file_atomic(dirfd, name, "", 0, err);
}

/*
 * @how: LOCK_EX or LOCK_SH. Retries for up to AVF_LOCK_WAIT_MS: a VMM
 * that has reported STOPPED may still hold the lock while it exits.
 */
int avf__lock_instance(const char *dir, int how, int *lockfd, char *err)
{
	char path[AVF_PATH_MAX];
	int fd, waited = 0;

	*lockfd = -1;
	if (snprintf(path, sizeof(path), "%s/%s", dir, AVF_FILE_LOCK) >= (int)sizeof(path))
		return AVF_E_INVALID;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;

		avf__seterr(err, "cannot open lock %s: %s", path, strerror(e));
		return avf__errno_to_err(e);
	}
	while (flock(fd, how | LOCK_NB) < 0) {
		int e = errno;
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if ((e == EWOULDBLOCK || e == EINTR) && waited < AVF_LOCK_WAIT_MS) {
			nanosleep(&ts, NULL);
			waited += 10;
			continue;
		}
		close(fd);
		if (e == EWOULDBLOCK) {
			avf__seterr(err, "instance is in use by another process or handle "
					 "(lock %s held)", path);
			return AVF_E_BUSY;
		}
		avf__seterr(err, "cannot lock %s: %s", path, strerror(e));
		return avf__errno_to_err(e);
	}
	*lockfd = fd;
	return AVF_OK;
}
