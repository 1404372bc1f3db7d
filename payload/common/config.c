// SPDX-License-Identifier: GPL-2.0
/* Parse the VM configuration tree with libfdt; trust nothing in it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
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

bool avf_payload_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > AVF_PAYLOAD_NAME_MAX)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x21 || c > 0x7e || c == '/' || c == '\\')
			return false;
	}
	return true;
}

static int get_u32(const void *fdt, int node, const char *name, uint32_t *val,
		   char *err, size_t errlen)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	if (!p)
		return fail(err, errlen, "config: missing property /avf/%s", name);
	if (len != (int)sizeof(*p))
		return fail(err, errlen, "config: /avf/%s must be one u32 cell (got %d bytes)",
			    name, len);
	*val = fdt32_ld(p);
	return 0;
}

static int get_string(const void *fdt, int node, const char *name, const char **val,
		      size_t *slen, char *err, size_t errlen)
{
	int len;
	const char *p = fdt_getprop(fdt, node, name, &len);

	if (!p)
		return fail(err, errlen, "config: missing property /avf/%s", name);
	if (len < 1 || p[len - 1] != '\0' || memchr(p, '\0', len) != p + len - 1)
		return fail(err, errlen, "config: /avf/%s must be one NUL-terminated string",
			    name);
	*val = p;
	*slen = (size_t)len - 1;
	return 0;
}

int avf_config_parse(const void *buf, size_t size, struct avf_config *cfg,
		     char *err, size_t errlen)
{
	const char *s;
	size_t slen;
	int node, rc;

	memset(cfg, 0, sizeof(*cfg));
	if (errlen)
		err[0] = '\0';
	if (!buf || size < sizeof(struct fdt_header))
		return fail(err, errlen, "config: too small for a device tree (%zu bytes)", size);
	if (size > AVF_CONFIG_MAX_SIZE)
		return fail(err, errlen, "config: too large (%zu bytes)", size);
	/* fdt_check_full() may not touch bytes outside the buffer it was given */
	rc = fdt_check_header(buf);
	if (rc)
		return fail(err, errlen, "config: bad header: %s", fdt_strerror(rc));
	if (fdt_totalsize(buf) > size)
		return fail(err, errlen, "config: truncated (totalsize %u > %zu)",
			    fdt_totalsize(buf), size);
	rc = fdt_check_full(buf, size);
	if (rc)
		return fail(err, errlen, "config: malformed device tree: %s", fdt_strerror(rc));

	node = fdt_path_offset(buf, "/avf");
	if (node < 0)
		return fail(err, errlen, "config: no /avf node");
	if (get_string(buf, node, "compatible", &s, &slen, err, errlen))
		return -1;
	if (strcmp(s, AVF_CONFIG_COMPATIBLE))
		return fail(err, errlen, "config: /avf is not compatible with %s",
			    AVF_CONFIG_COMPATIBLE);

	if (get_string(buf, node, "payload-binary-name", &s, &slen, err, errlen))
		return -1;
	if (!avf_payload_name_valid(s, slen))
		return fail(err, errlen, "config: invalid payload-binary-name");
	memcpy(cfg->payload_name, s, slen + 1);

	if (get_u32(buf, node, "debug-level", &cfg->debug_level, err, errlen) ||
	    get_u32(buf, node, "protected", &cfg->protected_vm, err, errlen) ||
	    get_u32(buf, node, "cid", &cfg->cid, err, errlen) ||
	    get_u32(buf, node, "memory-mib", &cfg->memory_mib, err, errlen) ||
	    get_u32(buf, node, "cpus", &cfg->cpus, err, errlen) ||
	    get_u32(buf, node, "storage", &cfg->storage, err, errlen))
		return -1;

	if (fdt_getprop(buf, node, "new-instance", NULL)) {
		if (get_u32(buf, node, "new-instance", &cfg->new_instance, err, errlen))
			return -1;
		if (cfg->new_instance > 1)
			return fail(err, errlen, "config: new-instance %u out of range",
				    cfg->new_instance);
		cfg->new_instance_set = true;
	}

	if (cfg->debug_level > 1)
		return fail(err, errlen, "config: debug-level %u out of range", cfg->debug_level);
	if (cfg->protected_vm > 1)
		return fail(err, errlen, "config: protected %u out of range", cfg->protected_vm);
	if (cfg->cid < 3 || cfg->cid == UINT32_MAX)
		return fail(err, errlen, "config: cid %u out of range", cfg->cid);
	if (cfg->memory_mib < 1)
		return fail(err, errlen, "config: memory-mib must be at least 1");
	if (cfg->cpus < 1 || cfg->cpus > 256)
		return fail(err, errlen, "config: cpus %u out of range", cfg->cpus);
	if (cfg->storage > 1)
		return fail(err, errlen, "config: storage %u out of range", cfg->storage);
	return 0;
}

int avf_config_load(const char *path, struct avf_config *cfg, char *err, size_t errlen)
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
	if (st.st_size > (off_t)AVF_CONFIG_MAX_SIZE) {
		close(fd);
		return fail(err, errlen, "config: too large (%lld bytes)", (long long)st.st_size);
	}
	/* one byte more than allowed, to notice a file that grew */
	buf = malloc(AVF_CONFIG_MAX_SIZE + 1);
	if (!buf) {
		close(fd);
		return fail(err, errlen, "config: out of memory");
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, AVF_CONFIG_MAX_SIZE + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail(err, errlen, "config: read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > AVF_CONFIG_MAX_SIZE) {
			rc = fail(err, errlen, "config: too large");
			goto out;
		}
	}
	rc = avf_config_parse(buf, got, cfg, err, errlen);
out:
	free(buf);
	close(fd);
	return rc;
}
