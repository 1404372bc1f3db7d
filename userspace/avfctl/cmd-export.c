// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl export: send a stopped VM's descriptor (VirtualMachine.toDescriptor)
 * to "avfctl import" listening on a UNIX socket.
 *
 * The descriptor is a capability (whoever gets it owns a copy of the VM),
 * so export checks whom it talks to: the path must be a socket, not a
 * link; with --to-uid UID it must belong to UID and the listening process
 * must run as UID (SO_PEERCRED); without, the listener must at least be
 * the socket's owner. It prints the uid it sends to.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "avfctl.h"

/* Waits up to @timeout_s for @path to appear, then checks what it is. */
static int check_path(struct avfctl *ctl, struct opts *o, int timeout_s, struct stat *st)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	for (int i = 0;; i++) {
		if (lstat(o->socket, st) == 0)
			break;
		if (errno != ENOENT || i >= timeout_s * 10) {
			avfctl_err(ctl, "export: %s: %s", o->socket, strerror(errno));
			return EX_UNAVAILABLE;
		}
		nanosleep(&ts, NULL);
	}
	if (S_ISLNK(st->st_mode)) {
		avfctl_err(ctl, "export: %s is a symbolic link: refusing to follow it", o->socket);
		return EX_NOPERM;
	}
	if (!S_ISSOCK(st->st_mode)) {
		avfctl_err(ctl, "export: %s is not a socket", o->socket);
		return EX_NOPERM;
	}
	if (o->to_uid >= 0 && st->st_uid != (uid_t)o->to_uid) {
		avfctl_err(ctl, "export: %s belongs to uid %u, not --to-uid %ld: refusing to "
				"send (another user may be squatting the path)", o->socket,
			   (unsigned)st->st_uid, o->to_uid);
		return EX_NOPERM;
	}
	return EX_OK;
}

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
		if (errno != ECONNREFUSED)
			return -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

int cmd_export(struct avfctl *ctl, struct opts *o)
{
	struct avf_descriptor *d = NULL;
	struct avf_manager *m = NULL;
	struct avf_vm *vm = NULL;
	int timeout_s = o->timeout_s >= 0 ? o->timeout_s : 10;
	long peer, pid = 0, want;
	int sock = -1, ret;
	struct stat st;
	char ack;

	if (!o->socket) {
		avfctl_err(ctl, "export needs --socket PATH (where 'avfctl import' listens)");
		return EX_USAGE;
	}
	ret = check_path(ctl, o, timeout_s, &st);
	if (ret)
		return ret;
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
	sock = connect_to(o->socket, timeout_s);
	if (sock < 0) {
		avfctl_err(ctl, "export: cannot connect to %s: %s", o->socket, strerror(errno));
		ret = errno == EACCES ? EX_NOPERM : EX_UNAVAILABLE;
		goto out;
	}
	/* Who listens? The path may have been swapped since we looked. */
	peer = avfctl_peer_uid(sock, &pid);
	want = o->to_uid >= 0 ? o->to_uid : (long)st.st_uid;
	if (peer < 0 || peer != want) {
		avfctl_err(ctl, "export: the listener on %s runs as uid %ld (pid %ld), not %s %ld: "
				"refusing to send", o->socket, peer, pid,
			   o->to_uid >= 0 ? "--to-uid" : "the socket's owner", want);
		ret = EX_NOPERM;
		goto out;
	}
	if (!ctl->json)
		fprintf(stderr, "%s: export: sending to uid %ld (pid %ld)\n", ctl->prog, peer, pid);
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
		json_object_object_add(j, "peer_uid", json_object_new_int64(peer));
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
