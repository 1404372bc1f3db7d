// SPDX-License-Identifier: GPL-2.0
/*
 * Test payload for stream semantics (selftests/api/vsock_stream_test.c):
 * listens on vsock port 5000, reports ready, and serves each connection
 * in a child process. The first byte of a connection picks what it does:
 *
 *   'E'  echo every byte back until EOF, then shutdown(SHUT_WR) and
 *        close: the host's half-close must deliver everything before it
 *        and leave the way back open.
 *   'S'  sink: read until EOF, then send back the byte count and the
 *        FNV-1a 64 hash (two little-endian u64) and close.
 *   'G'  generate: read a u64 count N, send N bytes of pattern(), then
 *        shutdown(SHUT_WR) (a guest half-close) and read until EOF,
 *        answering nothing; the host may still send (checked by 'Q').
 *   'A'  like 'E', for connections the host abandons mid-transfer:
 *        errors are expected and not counted.
 *   'H'  hold: never read; wait for the host to close (poll POLLRDHUP).
 *   'Q'  quit: reply "failures <n>\n" and return n ? 1 : 0.
 *
 * A child that fails exits 1; the parent counts such exits.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "vm_payload.h"
#include "vsock_stream_proto.h"

#define BUF (64 * 1024)

static int echo(int c)
{
	static uint8_t buf[BUF];
	ssize_t n;

	while ((n = read(c, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(c, buf, (size_t)n))
			return 1;
	}
	return shutdown(c, SHUT_WR) ? 1 : 0;
}

static int sink(int c)
{
	static uint8_t buf[BUF];
	uint64_t out[2] = { 0, FNV_INIT };
	ssize_t n;

	while ((n = read(c, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 1;
		out[1] = fnv(out[1], buf, (size_t)n);
		out[0] += (uint64_t)n;
	}
	return write_all(c, out, sizeof(out)) ? 1 : 0;
}

static int generate(int c)
{
	static uint8_t buf[BUF];
	uint64_t n, off = 0, i;
	ssize_t r;

	if (read_all(c, &n, sizeof(n)))
		return 1;
	while (off < n) {
		uint64_t k = n - off < sizeof(buf) ? n - off : sizeof(buf);

		for (i = 0; i < k; i++)
			buf[i] = pattern(off + i);
		if (write_all(c, buf, (size_t)k))
			return 1;
		off += k;
	}
	if (shutdown(c, SHUT_WR))
		return 1;
	/* The host's direction stays open: it sends "after\n" and closes. */
	char got[16];
	size_t len = 0;

	while ((r = read(c, got + len, sizeof(got) - len)) > 0)
		len += (size_t)r;
	return r == 0 && len == 6 && !memcmp(got, "after\n", 6) ? 0 : 1;
}

static int hold(int c)
{
	struct pollfd p = { .fd = c, .events = POLLRDHUP };

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	return 0;
}

static int serve(int c)
{
	char cmd;

	if (read_all(c, &cmd, 1))
		return 1;
	switch (cmd) {
	case 'E':
		return echo(c);
	case 'A':
		echo(c);
		return 0;
	case 'S':
		return sink(c);
	case 'G':
		return generate(c);
	case 'H':
		return hold(c);
	default:
		return 1;
	}
}

static void reap(int *failures, int flags)
{
	int st;

	while (waitpid(-1, &st, flags) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			(*failures)++;
}

int AVmPayload_main(void)
{
	struct sockaddr_vm a;
	int s, c, failures = 0;
	char cmd, msg[32];

	signal(SIGPIPE, SIG_IGN);
	s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 1;
	memset(&a, 0, sizeof(a));
	a.svm_family = AF_VSOCK;
	a.svm_port = VSOCK_STREAM_PORT;
	a.svm_cid = VMADDR_CID_ANY;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 64))
		return 1;
	AVmPayload_notifyPayloadReady();
	for (;;) {
		pid_t pid;

		c = accept(s, NULL, NULL);
		reap(&failures, WNOHANG);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return 1;
		}
		if (recv(c, &cmd, 1, MSG_PEEK) == 1 && cmd == 'Q') {
			/* Every earlier connection's child finishes first. */
			reap(&failures, 0);
			snprintf(msg, sizeof(msg), "failures %d\n", failures);
			write_all(c, msg, strlen(msg));
			close(c);
			close(s);
			return failures ? 1 : 0;
		}
		pid = fork();
		if (pid == 0) {
			close(s);
			_exit(serve(c));
		}
		close(c);
		if (pid < 0)
			failures++;
	}
}
