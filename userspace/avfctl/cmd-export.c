// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl export: send a stopped VM's descriptor (VirtualMachine.toDescriptor)
 * to "avfctl import" listening on a UNIX socket.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "avfctl.h"

static int connect_to(const char *path, int timeout_s)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	if (strlen(path) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a.sun_path, path);
	for (int i = 0; i <= timeout_s * 10; i++) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (s < 0)
			return -1;
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			return s;
		close(s);
		if (errno != ENOENT && errno != ECONNREFUSED)
			return -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

int cmd_export(struct avfctl *ctl, struct opts *o)
{
	struct avf_descriptor *d = NULL;
	struct avf_manager *m;
	struct avf_vm *vm = NULL;
	int sock = -1, ret;
	char ack;

	if (!o->socket) {
		avfctl_err(ctl, "export needs --socket PATH (where 'avfctl import' listens)");
		return EX_USAGE;
	}
	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avfctl_get_vm(ctl, m, o, &vm);
	if (ret)
		goto out;
	ret = avf_vm_to_descriptor(vm, &d);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "export", avf_vm_last_error(vm));
		goto out;
	}
	sock = connect_to(o->socket, o->timeout_s >= 0 ? o->timeout_s : 10);
	if (sock < 0) {
		avfctl_err(ctl, "export: cannot connect to %s: %s", o->socket, strerror(errno));
		ret = EX_UNAVAILABLE;
		goto out;
	}
	ret = avf_descriptor_send(sock, d);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "export: sending the descriptor", NULL);
		goto out;
	}
	/* Keep the fds alive until the importer has copied them. */
	if (read(sock, &ack, 1) != 1 || ack != 'y') {
		avfctl_err(ctl, "export: the importer failed (see its error)");
		ret = EX_PROTOCOL;
		goto out;
	}
	if (ctl->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(avf_vm_name(vm)));
		json_object_object_add(j, "exported", json_object_new_boolean(1));
		avfctl_json_print(j);
	} else {
		printf("exported VM '%s'\n", avf_vm_name(vm));
	}
out:
	if (sock >= 0)
		close(sock);
	avf_descriptor_free(d);
	avf_vm_release(vm);
	avf_manager_close(m);
	return ret;
}
