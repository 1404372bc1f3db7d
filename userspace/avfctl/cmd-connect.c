// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl connect: connect to a vsock port of a running VM
 * (VirtualMachine.connectVsock) and relay standard input and output until
 * the VM closes the connection.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avfctl.h"

static int relay(int in, int out)
{
	char buf[16384];
	ssize_t n = read(in, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(out, buf + off, (size_t)(n - off));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += w;
	}
	return 1;
}

int cmd_connect(struct avfctl *ctl, struct opts *o)
{
	struct avf_manager *m;
	struct avf_vm *vm = NULL;
	unsigned long port;
	char *end;
	int fd = -1, ret;
	bool in_open = true, sock_open = true;

	errno = 0;
	port = o->nargs == 2 ? strtoul(o->args[1], &end, 10) : 0;
	if (o->nargs != 2 || errno || *end || port > UINT32_MAX) {
		avfctl_err(ctl, "connect takes NAME PORT (1024..4294967295)");
		return EX_USAGE;
	}
	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avfctl_get_vm(ctl, m, o, &vm);
	if (ret)
		goto out;
	ret = avf_vm_connect_vsock(vm, (uint32_t)port, &fd);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "connect", avf_vm_last_error(vm));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Until the VM closes; our EOF half-closes towards it. */
	while (sock_open) {
		struct pollfd p[2] = {
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = fd, .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/*
		 * At the end of our input we stop sending but keep the
		 * connection open both ways: the VM closes it when done (a
		 * half-close is not carried to the guest as one).
		 */
		if (p[0].revents && relay(STDIN_FILENO, fd) <= 0)
			in_open = false;
		if (p[1].revents && relay(fd, STDOUT_FILENO) <= 0)
			sock_open = false;
	}
	ret = EX_OK;
out:
	if (fd >= 0)
		close(fd);
	avf_vm_release(vm);
	avf_manager_close(m);
	return ret;
}
