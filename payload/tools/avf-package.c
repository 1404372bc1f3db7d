// SPDX-License-Identifier: GPL-2.0
/*
 * avf-package: build an app package, a zip archive laid out like an APK:
 * lib/x86_64/<name>.so for every shared object plus optional assets.
 *
 *   avf-package -o out.zip [--asset path=file]... lib.so [lib2.so]...
 *
 * The output is reproducible: entries in command-line order, fixed
 * timestamps, fixed permissions.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <minizip/zip.h>

#include "pkg.h"

#define MAX_ENTRIES 4096

struct entry {
	char *name;		/* inside the archive */
	const char *file;	/* on the host */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: avf-package -o OUT.zip [--asset PATH=FILE]... LIB.so [LIB.so]...\n"
		   "  puts each LIB.so at lib/x86_64/<basename> and each asset FILE at PATH\n");
}

static int add_file(zipFile zf, const struct entry *e)
{
	static char buf[64 * 1024];
	zip_fileinfo zi;
	FILE *in;
	size_t n;
	int rc = -1;
	struct stat st;

	in = fopen(e->file, "rb");
	if (!in || fstat(fileno(in), &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "avf-package: %s: %s\n", e->file,
			in ? "not a regular file" : strerror(errno));
		if (in)
			fclose(in);
		return -1;
	}
	memset(&zi, 0, sizeof(zi));
	zi.tmz_date.tm_year = 1980;	/* earliest DOS date: reproducible */
	zi.tmz_date.tm_mday = 1;
	zi.external_fa = (uLong)(S_IFREG | 0644) << 16;
	if (zipOpenNewFileInZip4_64(zf, e->name, &zi, NULL, 0, NULL, 0, NULL, Z_DEFLATED, 9, 0,
				    -MAX_WBITS, DEF_MEM_LEVEL, Z_DEFAULT_STRATEGY, NULL, 0,
				    (3 << 8) | 20 /* made by Unix, version 2.0 */, 0,
				    st.st_size >= 0xffffffffLL) != ZIP_OK) {
		fprintf(stderr, "avf-package: cannot add %s\n", e->name);
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (zipWriteInFileInZip(zf, buf, (unsigned int)n) != ZIP_OK)
			goto out;
	if (ferror(in))
		goto out;
	rc = 0;
out:
	if (zipCloseFileInZip(zf) != ZIP_OK)
		rc = -1;
	if (rc)
		fprintf(stderr, "avf-package: writing %s failed\n", e->name);
	fclose(in);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "asset", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct entry ents[MAX_ENTRIES];
	const char *out = NULL;
	char *tmp = NULL;
	int n = 0, opt, rc = 1;
	zipFile zf;

	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		char *eq;

		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'a':
			eq = strchr(optarg, '=');
			if (!eq || n >= MAX_ENTRIES) {
				usage(stderr);
				return 64;
			}
			ents[n].name = strndup(optarg, (size_t)(eq - optarg));
			ents[n].file = eq + 1;
			if (!ents[n].name)
				return 1;
			n++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (!out || (optind >= argc && n == 0)) {
		usage(stderr);
		return 64;
	}
	for (; optind < argc; optind++) {
		const char *base = strrchr(argv[optind], '/');

		base = base ? base + 1 : argv[optind];
		if (n >= MAX_ENTRIES || asprintf(&ents[n].name, "lib/x86_64/%s", base) < 0)
			return 1;
		ents[n++].file = argv[optind];
	}
	for (int i = 0; i < n; i++) {
		if (!avf_pkg_name_safe(ents[i].name, strlen(ents[i].name), NULL)) {
			fprintf(stderr, "avf-package: unsafe entry name '%s'\n", ents[i].name);
			return 64;
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(ents[i].name, ents[j].name)) {
				fprintf(stderr, "avf-package: duplicate entry '%s'\n", ents[i].name);
				return 64;
			}
	}

	if (asprintf(&tmp, "%s.tmp.%d", out, (int)getpid()) < 0)
		return 1;
	zf = zipOpen64(tmp, APPEND_STATUS_CREATE);
	if (!zf) {
		fprintf(stderr, "avf-package: cannot create %s\n", tmp);
		return 1;
	}
	for (int i = 0; i < n; i++)
		if (add_file(zf, &ents[i]))
			goto out;
	if (zipClose(zf, NULL) != ZIP_OK) {
		zf = NULL;
		fprintf(stderr, "avf-package: cannot finish %s\n", tmp);
		goto out;
	}
	zf = NULL;
	if (rename(tmp, out)) {
		perror(out);
		goto out;
	}
	rc = 0;
out:
	if (zf)
		zipClose(zf, NULL);
	if (rc)
		unlink(tmp);
	free(tmp);
	for (int i = 0; i < n; i++)
		free(ents[i].name);
	return rc;
}
