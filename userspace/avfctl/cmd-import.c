// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl import: listen on a UNIX socket, receive one descriptor from
 * "avfctl export" and create VM NAME from it
 * (VirtualMachineManager.importFromDescriptor).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "avfctl.h"

int cmd_import(struct avfctl *ctl, struct opts *o)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct avf_descriptor *d = NULL;
	struct avf_manager *m;
	struct avf_vm *vm = NULL;
	const char *name = avfctl_vm_name(o);
	int ls = -1, s = -1, ret;
	struct pollfd p;

	if (!o->socket) {
		avfctl_err(ctl, "import needs --socket PATH to listen on");
		return EX_USAGE;
	}
	if (strlen(o->socket) >= sizeof(a.sun_path)) {
		avfctl_err(ctl, "import: socket path too long");
		return EX_USAGE;
	}
	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	strcpy(a.sun_path, o->socket);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(o->socket);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0) {
		avfctl_err(ctl, "import: cannot listen on %s: %s", o->socket, strerror(errno));
		ret = EX_CANTCREAT;
		goto out;
	}
	/* The exporter may run as another user. */
	chmod(o->socket, 0666);
	p.fd = ls;
	p.events = POLLIN;
	if (poll(&p, 1, (o->timeout_s >= 0 ? o->timeout_s : 60) * 1000) != 1) {
		avfctl_err(ctl, "import: nobody exported to %s in time", o->socket);
		ret = EX_TEMPFAIL;
		goto out;
	}
	s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0) {
		avfctl_err(ctl, "import: accept: %s", strerror(errno));
		ret = EX_OSERR;
		goto out;
	}
	ret = avf_descriptor_recv(s, &d);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "import: receiving the descriptor", NULL);
		goto out;
	}
	ret = avf_import_from_descriptor(m, name, d, &vm);
	if (write(s, ret ? "n" : "y", 1) != 1) {
		/* The exporter only waits for this to release its fds. */
	}
	if (ret) {
		ret = avfctl_fail(ctl, ret, "import", avf_manager_last_error(m));
		goto out;
	}
	if (ctl->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(name));
		json_object_object_add(j, "dir", json_object_new_string(avf_vm_dir(vm)));
		json_object_object_add(j, "status", json_object_new_string("STOPPED"));
		avfctl_json_print(j);
	} else {
		printf("imported VM '%s' into %s\n", name, avf_vm_dir(vm));
	}
out:
	if (s >= 0)
		close(s);
	if (ls >= 0) {
		close(ls);
		unlink(o->socket);
	}
	avf_descriptor_free(d);
	avf_vm_release(vm);
	avf_manager_close(m);
	return ret;
}
