// SPDX-License-Identifier: GPL-2.0
/* Write a package whose only entry escapes with "../" (for qemu-test.sh). */
#include <stdio.h>
#include <string.h>

#include <minizip/zip.h>

int main(int argc, char **argv)
{
	zip_fileinfo zi;
	zipFile zf;

	if (argc != 2) {
		fprintf(stderr, "usage: mkhostile OUT.zip\n");
		return 2;
	}
	zf = zipOpen64(argv[1], APPEND_STATUS_CREATE);
	if (!zf)
		return 1;
	memset(&zi, 0, sizeof(zi));
	zi.tmz_date.tm_year = 1980;
	zi.tmz_date.tm_mday = 1;
	if (zipOpenNewFileInZip(zf, "../x.so", &zi, NULL, 0, NULL, 0, NULL, Z_DEFLATED, 6) ||
	    zipWriteInFileInZip(zf, "evil", 4) || zipCloseFileInZip(zf) || zipClose(zf, NULL))
		return 1;
	return 0;
}
