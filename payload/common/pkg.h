/* SPDX-License-Identifier: GPL-2.0 */
/* App package (zip) extraction, hardened against hostile archives. */
#ifndef AVF_PAYLOAD_PKG_H
#define AVF_PAYLOAD_PKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AVF_PKG_PATH_MAX	1024u	/* bytes in one entry name */
#define AVF_PKG_COMPONENT_MAX	255u

struct avf_pkg_limits {
	uint32_t max_entries;
	uint64_t max_file_size;		/* uncompressed bytes in one entry */
	uint64_t max_total_size;	/* uncompressed bytes in all entries */
};

/* Defaults used by the guest runtime */
#define AVF_PKG_DEFAULT_LIMITS { 65536u, 512ull << 20, 1024ull << 20 }

/*
 * true when @name (an entry name from the archive, @len bytes) is a safe
 * relative path: not empty, not absolute, no '\\', no control characters,
 * no empty, "." or ".." components; a single trailing '/' marks a directory
 * and is allowed only when @is_dir is not NULL (it is then set).
 */
bool avf_pkg_name_safe(const char *name, size_t len, bool *is_dir);

/*
 * Extract every entry of the zip archive at @zip_path into the existing,
 * empty directory @dest. Regular files get mode 0644, directories 0755.
 * Symlinks, devices and other special entries, encrypted entries, unknown
 * compression methods, duplicate names, unsafe names, CRC errors and
 * anything above @lim are rejected. On failure the reason is in @err and
 * @dest may hold a partial tree (the caller throws it away).
 * Returns the number of regular files extracted, or -1.
 */
int avf_pkg_extract(const char *zip_path, const char *dest,
		    const struct avf_pkg_limits *lim, char *err, size_t errlen);

#endif
