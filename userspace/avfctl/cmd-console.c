// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl console / log: print the console or payload log that a VM started
 * with "avfctl start" wrote; -f follows it until the VM stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avfctl.h"

static int show(struct avfctl *ctl, struct opts *o, const char *kind)
{
	struct avf_manager *m;
	struct avf_vm *vm = NULL;
	char *path = NULL;
	int fd = -1, ret;

	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avfctl_get_vm(ctl, m, o, &vm);
	if (ret)
		goto out;
	path = avfctl_output_path(m, avf_vm_name(vm), kind);
	fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0) {
		avfctl_err(ctl, "no %s output for VM '%s' (%s: %s); it is written when a VM "
				"created with --debug full is started with 'avfctl start'",
			   kind, avf_vm_name(vm), path ? path : "?", strerror(errno));
		ret = EX_NOINPUT;
		goto out;
	}
	for (;;) {
		char buf[8192];
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n > 0) {
			if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			avfctl_err(ctl, "reading %s: %s", path, strerror(errno));
			ret = EX_IOERR;
			break;
		}
		if (o->follow) {
			enum avf_status st;
			struct timespec ts = { 0, 200 * 1000 * 1000 };

			if (avf_vm_status(vm, &st) == AVF_OK && st == AVF_VM_STATUS_RUNNING) {
				nanosleep(&ts, NULL);
				continue;
			}
			/* One more pass picks up what was written before the stop. */
			o->follow = false;
			continue;
		}
		break;
	}
out:
	if (fd >= 0)
		close(fd);
	free(path);
	avf_vm_release(vm);
	avf_manager_close(m);
	return ret;
}

int cmd_console(struct avfctl *ctl, struct opts *o)
{
	return show(ctl, o, "console");
}

int cmd_log(struct avfctl *ctl, struct opts *o)
{
	return show(ctl, o, "log");
}
