// SPDX-License-Identifier: GPL-2.0
/* Extract an app package with minizip (zlib's contrib/minizip). */
#include "pkg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <minizip/unzip.h>

#define ZIP_HOST_UNIX	3u

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

bool avf_pkg_name_safe(const char *name, size_t len, bool *is_dir)
{
	size_t start = 0;

	if (is_dir)
		*is_dir = false;
	if (len == 0 || len > AVF_PKG_PATH_MAX || name[0] == '/')
		return false;
	if (name[len - 1] == '/') {
		if (!is_dir)
			return false;
		*is_dir = true;
		len--;
		if (len == 0)
			return false;
	}
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)name[i] : '/';

		if (c == '/') {
			size_t clen = i - start;

			if (clen == 0 || clen > AVF_PKG_COMPONENT_MAX)
				return false;
			if (clen == 1 && name[start] == '.')
				return false;
			if (clen == 2 && name[start] == '.' && name[start + 1] == '.')
				return false;
			start = i + 1;
			continue;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return false;
	}
	return true;
}

/* Open (creating as needed) the directory holding @path's last component. */
static int open_parent(int root, char *path, char **leaf, char *err, size_t errlen)
{
	int dfd = dup(root);
	char *p = path, *slash;

	if (dfd < 0)
		return fail(err, errlen, "dup: %s", strerror(errno));
	while ((slash = strchr(p, '/'))) {
		int nfd;

		*slash = '\0';
		if (mkdirat(dfd, p, 0755) && errno != EEXIST) {
			fail(err, errlen, "mkdir %s: %s", p, strerror(errno));
			*slash = '/';
			close(dfd);
			return -1;
		}
		nfd = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			fail(err, errlen, "open directory %s: %s", p, strerror(errno));
			*slash = '/';
			close(dfd);
			return -1;
		}
		*slash = '/';
		close(dfd);
		dfd = nfd;
		p = slash + 1;
	}
	*leaf = p;
	return dfd;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int extract_one(unzFile zf, int root, char *name, bool is_dir,
		       const unz_file_info64 *info, const struct avf_pkg_limits *lim,
		       uint64_t *total, char *err, size_t errlen)
{
	static char buf[64 * 1024];
	uint64_t got = 0;
	char *leaf;
	int dfd, fd, rc = -1, zrc;

	if (is_dir) {
		size_t len = strlen(name);

		name[len - 1] = '\0';	/* drop the trailing '/' */
		dfd = open_parent(root, name, &leaf, err, errlen);
		if (dfd < 0)
			return -1;
		if (mkdirat(dfd, leaf, 0755) && errno != EEXIST)
			rc = fail(err, errlen, "mkdir %s: %s", name, strerror(errno));
		else
			rc = 0;
		close(dfd);
		return rc;
	}

	dfd = open_parent(root, name, &leaf, err, errlen);
	if (dfd < 0)
		return -1;
	fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	close(dfd);
	if (fd < 0) {
		if (errno == EEXIST)
			return fail(err, errlen, "duplicate entry %s", name);
		return fail(err, errlen, "create %s: %s", name, strerror(errno));
	}
	zrc = unzOpenCurrentFile(zf);
	if (zrc != UNZ_OK) {
		fail(err, errlen, "%s: cannot open entry (%d)", name, zrc);
		goto out;
	}
	for (;;) {
		int n = unzReadCurrentFile(zf, buf, sizeof(buf));

		if (n < 0) {
			fail(err, errlen, "%s: corrupt data (%d)", name, n);
			unzCloseCurrentFile(zf);
			goto out;
		}
		if (n == 0)
			break;
		got += (uint64_t)n;
		*total += (uint64_t)n;
		/* never trust the sizes in the headers */
		if (got > info->uncompressed_size || got > lim->max_file_size ||
		    *total > lim->max_total_size) {
			fail(err, errlen, "%s: expands beyond its declared size or the limits", name);
			unzCloseCurrentFile(zf);
			goto out;
		}
		if (write_all(fd, buf, (size_t)n)) {
			fail(err, errlen, "%s: write: %s", name, strerror(errno));
			unzCloseCurrentFile(zf);
			goto out;
		}
	}
	zrc = unzCloseCurrentFile(zf);
	if (zrc == UNZ_CRCERROR) {
		fail(err, errlen, "%s: CRC mismatch", name);
		goto out;
	}
	if (zrc != UNZ_OK || got != info->uncompressed_size) {
		fail(err, errlen, "%s: truncated entry", name);
		goto out;
	}
	if (fsync(fd)) {
		fail(err, errlen, "%s: fsync: %s", name, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int avf_pkg_extract(const char *zip_path, const char *dest,
		    const struct avf_pkg_limits *lim, char *err, size_t errlen)
{
	char name[AVF_PKG_PATH_MAX + 2];
	unz_global_info64 gi;
	uint64_t total = 0;
	uint32_t entries = 0;
	int files = 0, root, zrc, rc = -1;
	unzFile zf;

	if (errlen)
		err[0] = '\0';
	root = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		return fail(err, errlen, "open %s: %s", dest, strerror(errno));
	zf = unzOpen64(zip_path);
	if (!zf) {
		close(root);
		return fail(err, errlen, "%s is not a readable zip archive", zip_path);
	}
	if (unzGetGlobalInfo64(zf, &gi) != UNZ_OK) {
		fail(err, errlen, "bad zip directory");
		goto out;
	}
	if (gi.number_entry > lim->max_entries) {
		fail(err, errlen, "too many entries (%llu)", (unsigned long long)gi.number_entry);
		goto out;
	}
	for (zrc = unzGoToFirstFile(zf); zrc == UNZ_OK; zrc = unzGoToNextFile(zf)) {
		unz_file_info64 info;
		unsigned int type = 0;
		bool is_dir;

		if (++entries > lim->max_entries) {
			fail(err, errlen, "too many entries");
			goto out;
		}
		if (unzGetCurrentFileInfo64(zf, &info, name, sizeof(name), NULL, 0, NULL, 0)
		    != UNZ_OK) {
			fail(err, errlen, "bad entry %u", entries);
			goto out;
		}
		if (info.size_filename >= sizeof(name) - 1 ||
		    strlen(name) != info.size_filename) {
			fail(err, errlen, "entry %u: name too long or contains NUL", entries);
			goto out;
		}
		if (!avf_pkg_name_safe(name, info.size_filename, &is_dir)) {
			fail(err, errlen, "entry %u: unsafe name", entries);
			goto out;
		}
		if ((info.version >> 8) == ZIP_HOST_UNIX)
			type = (unsigned int)(info.external_fa >> 16) & S_IFMT;
		if (type && type != S_IFREG && type != S_IFDIR) {
			fail(err, errlen, "%s: not a regular file or directory", name);
			goto out;
		}
		if ((type == S_IFDIR) != is_dir && type) {
			fail(err, errlen, "%s: type does not match name", name);
			goto out;
		}
		if (info.flag & 1u) {
			fail(err, errlen, "%s: encrypted entries are not supported", name);
			goto out;
		}
		if (info.compression_method != 0 && info.compression_method != Z_DEFLATED) {
			fail(err, errlen, "%s: unsupported compression method %lu", name,
			     (unsigned long)info.compression_method);
			goto out;
		}
		if (info.uncompressed_size > lim->max_file_size ||
		    info.uncompressed_size > lim->max_total_size - total) {
			fail(err, errlen, "%s: too large (%llu bytes)", name,
			     (unsigned long long)info.uncompressed_size);
			goto out;
		}
		if (is_dir && info.uncompressed_size) {
			fail(err, errlen, "%s: directory with data", name);
			goto out;
		}
		if (extract_one(zf, root, name, is_dir, &info, lim, &total, err, errlen))
			goto out;
		if (!is_dir)
			files++;
	}
	if (zrc != UNZ_END_OF_LIST_OF_FILE) {
		fail(err, errlen, "bad zip directory after entry %u (%d)", entries, zrc);
		goto out;
	}
	rc = files;
out:
	unzClose(zf);
	close(root);
	return rc;
}
