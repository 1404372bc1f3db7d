// SPDX-License-Identifier: GPL-2.0
/* Read the VM configuration tree file; common/vmcfg.c parses it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int avf_config_load(const char *path, struct avf_vmcfg *cfg, char *err, size_t errlen)
{
	unsigned char *buf;
	struct stat st;
	size_t got = 0;
	int fd, rc;

	memset(cfg, 0, sizeof(*cfg));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fail(err, errlen, "config: cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, "config: %s is not a regular file", path);
	}
	if (st.st_size > (off_t)AVF_VMCFG_MAX_SIZE) {
		close(fd);
		return fail(err, errlen, "config: too large (%lld bytes)", (long long)st.st_size);
	}
	/* one byte more than allowed, to notice a file that grew */
	buf = malloc(AVF_VMCFG_MAX_SIZE + 1);
	if (!buf) {
		close(fd);
		return fail(err, errlen, "config: out of memory");
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, AVF_VMCFG_MAX_SIZE + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail(err, errlen, "config: read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > AVF_VMCFG_MAX_SIZE) {
			rc = fail(err, errlen, "config: too large");
			goto out;
		}
	}
	rc = avf_vmcfg_parse(buf, got, cfg, err, errlen);
out:
	free(buf);
	close(fd);
	return rc;
}
