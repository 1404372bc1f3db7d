// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl import: listen on a UNIX socket, receive one descriptor from
 * "avfctl export" and create VM NAME from it
 * (VirtualMachineManager.importFromDescriptor).
 *
 * The socket is ours: import refuses a path that exists already (someone
 * else's socket, file or link), creates it mode 0600 (only our uid and
 * root can connect; with --from-uid UID a POSIX ACL lets that uid connect
 * too), accepts only a peer of --from-uid when given (SO_PEERCRED) and
 * always says which uid the descriptor came from. It removes the socket
 * when done.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "avfctl.h"

/*
 * Lets @uid connect to the 0600 socket at @path: a POSIX access ACL
 * (user::rw- user:UID:rw- group::--- mask::rw- other::---), written as the
 * kernel's system.posix_acl_access xattr (little-endian).
 */
static int grant_uid(const char *path, uint32_t uid)
{
	static const struct { uint16_t tag, perm; } fixed[] = {
		{ 0x01, 6 }, { 0, 0 }, { 0x04, 0 }, { 0x10, 6 }, { 0x20, 0 },
	};
	unsigned char buf[4 + 5 * 8], *p = buf;

	*p++ = 2; *p++ = 0; *p++ = 0; *p++ = 0; /* POSIX_ACL_XATTR_VERSION */
	for (int i = 0; i < 5; i++) {
		uint16_t tag = i == 1 ? 0x02 : fixed[i].tag; /* ACL_USER */
		uint16_t perm = i == 1 ? 6 : fixed[i].perm;
		uint32_t id = i == 1 ? uid : UINT32_MAX;

		*p++ = tag & 0xff; *p++ = tag >> 8;
		*p++ = perm & 0xff; *p++ = perm >> 8;
		for (int b = 0; b < 4; b++)
			*p++ = (id >> (8 * b)) & 0xff;
	}
	return setxattr(path, "system.posix_acl_access", buf, sizeof(buf), 0);
}

/* Creates the listening socket at @path, mode 0600; -1 with a message. */
static int listen_on(struct avfctl *ctl, struct opts *o, bool *created)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	mode_t old;
	int ls, r;

	strcpy(a.sun_path, o->socket);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0) {
		avfctl_err(ctl, "import: socket: %s", strerror(errno));
		return -1;
	}
	/* Mode 0600 from the start: no window in which others may connect. */
	old = umask(0177);
	r = bind(ls, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0) {
		avfctl_err(ctl, "import: cannot create %s: %s%s", o->socket, strerror(errno),
			   errno == EADDRINUSE ? " (it appeared meanwhile: not ours)" : "");
		close(ls);
		return -1;
	}
	*created = true;
	if (o->from_uid >= 0 && (uid_t)o->from_uid != geteuid() &&
	    grant_uid(o->socket, (uint32_t)o->from_uid) < 0) {
		avfctl_err(ctl, "import: cannot let uid %ld connect to the 0600 socket %s: "
				"%s (POSIX ACLs needed; use a directory on a filesystem with "
				"ACLs, e.g. tmpfs)", o->from_uid, o->socket, strerror(errno));
		close(ls);
		return -1;
	}
	if (listen(ls, 4) < 0) {
		avfctl_err(ctl, "import: listen on %s: %s", o->socket, strerror(errno));
		close(ls);
		return -1;
	}
	return ls;
}

int cmd_import(struct avfctl *ctl, struct opts *o)
{
	struct sockaddr_un a;
	struct avf_descriptor *d = NULL;
	struct avf_manager *m = NULL;
	struct avf_vm *vm = NULL;
	const char *name = avfctl_vm_name(o);
	int ls = -1, s = -1, ret;
	bool created = false;
	long peer = -1, pid = 0;
	struct pollfd p;
	struct stat st;

	if (!o->socket) {
		avfctl_err(ctl, "import needs --socket PATH to listen on");
		return EX_USAGE;
	}
	if (strlen(o->socket) >= sizeof(a.sun_path)) {
		avfctl_err(ctl, "import: socket path too long");
		return EX_USAGE;
	}
	/* Never reuse or remove what we did not create. */
	if (lstat(o->socket, &st) == 0 || errno != ENOENT) {
		avfctl_err(ctl, "import: %s already exists: import listens only on a socket it "
				"creates itself (remove it, or choose another path)", o->socket);
		return EX_CANTCREAT;
	}
	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ls = listen_on(ctl, o, &created);
	if (ls < 0) {
		ret = EX_CANTCREAT;
		goto out;
	}
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
	peer = avfctl_peer_uid(s, &pid);
	if (peer < 0 || (o->from_uid >= 0 && peer != o->from_uid)) {
		avfctl_err(ctl, "import: refusing the descriptor of uid %ld (pid %ld): "
				"--from-uid %ld", peer, pid, o->from_uid);
		ret = EX_NOPERM;
		goto out;
	}
	if (!ctl->json)
		fprintf(stderr, "%s: import: descriptor from uid %ld (pid %ld)\n", ctl->prog,
			peer, pid);
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
		json_object_object_add(j, "peer_uid", json_object_new_int64(peer));
		avfctl_json_print(j);
	} else {
		printf("imported VM '%s' into %s\n", name, avf_vm_dir(vm));
	}
out:
	if (s >= 0)
		close(s);
	if (ls >= 0)
		close(ls);
	if (created)
		unlink(o->socket);
	avf_descriptor_free(d);
	avf_vm_release(vm);
	avf_manager_close(m);
	return ret;
}
