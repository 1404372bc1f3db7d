// SPDX-License-Identifier: GPL-2.0
/*
 * Stream semantics of connectVsock with a Linux guest (issue 9, item 5):
 * bulk transfer each way and full duplex verified by content, half-close
 * from either side, many concurrent and abandoned connections, and a
 * guest that stops reading. Runs inside the test host (selftests/api/
 * run.sh) as root; each test boots its own VM with the vsock-stream
 * payload (payloads/vsock_stream.c) and, at the end, asks the payload
 * for its failure count ('Q'), which must be 0.
 *
 * Repetitions: 3 transfers of 64 MiB host->guest, 3 guest->host and 20
 * full duplex (64 MiB each way at once): 46 streams of 64 MiB through the
 * device, so a stall that hits 1 stream in 10 escapes one run with
 * probability 0.9^46 ~ 0.008 (the 32 concurrent full-duplex connections
 * come on top). The bound is make check's time: each test boots its own
 * VM; one full-duplex transfer takes ~2 s in a quiet test host, 10-25 s
 * in a loaded one.
 * AVF_TEST_STREAM_REPS=N sets every count to N (e.g. 30 for a soak).
 *
 * Throughput and latency are printed ("# perf: ...") and never asserted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <avf/avf.h>

#include "kselftest_harness.h"
#include "api_vm.h"
#include "payloads/vsock_stream_proto.h"

#ifndef AVF_TEST_DIR
#define AVF_TEST_DIR "."
#endif

#define RUN_TIMEOUT_S	120
/*
 * A transfer that makes no progress at all for this long has stalled:
 * reads and writes on the connection give up (SO_RCVTIMEO/SO_SNDTIMEO)
 * so that the test fails with the VMM's log instead of hanging until the
 * harness kills it. Not a timing assertion: any progress resets it.
 */
#define STALL_S		120
#define BIG		(64ULL << 20)
#define CHUNK		(64 * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int reps(int dflt)
{
	const char *e = getenv("AVF_TEST_STREAM_REPS");
	int n = e ? atoi(e) : dflt;

	return n > 0 ? n : dflt;
}

/* Writes @len bytes of pattern() in CHUNK writes, then shutdown(SHUT_WR). */
struct writer {
	int fd;
	uint64_t len;
	int ret;
	pthread_t t;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	static __thread uint8_t buf[CHUNK];
	uint64_t off = 0;

	w->ret = -1;
	while (off < w->len) {
		size_t k = w->len - off < CHUNK ? (size_t)(w->len - off) : CHUNK;

		for (size_t i = 0; i < k; i++)
			buf[i] = pattern(off + i);
		if (write_all(w->fd, buf, k))
			return NULL;
		off += k;
	}
	w->ret = shutdown(w->fd, SHUT_WR);
	return NULL;
}

/* Reads until EOF, checking pattern(); returns the byte count or -1 on a mismatch/error. */
static int64_t read_pattern(int fd)
{
	static __thread uint8_t buf[CHUNK];
	uint64_t off = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(off + (uint64_t)i))
				return -1;
		off += (uint64_t)n;
	}
	return (int64_t)off;
}

FIXTURE(stream)
{
	struct api_vm v;
};

/* A failed test shows what the VMM logged (stall diagnostics, resets). */
static int vm_connect(struct __test_metadata *_metadata, struct avf_vm *vm, char cmd)
{
	int fd = -1, ret = avf_vm_connect_vsock(vm, VSOCK_STREAM_PORT, &fd);

	struct timeval tv = { .tv_sec = STALL_S };

	EXPECT_EQ(AVF_OK, ret) TH_LOG("connect: %s", avf_vm_last_error(vm));
	if (ret) {
		api_vm_dump_log(vm);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		close(fd);
		return -1;
	}
	if (write(fd, &cmd, 1) != 1) {
		close(fd);
		return -1;
	}
	return fd;
}

FIXTURE_SETUP(stream)
{
	const char *apk = AVF_TEST_DIR "/vsock-stream.zip";
	enum avf_status st;
	const char *skip = api_vm_start(_metadata, &self->v, "stream", apk, "vsock-stream.so");

	if (skip)
		SKIP(return, "%s", skip);
	/* The payload is ready once a connection succeeds. */
	for (int i = 0; i < RUN_TIMEOUT_S * 10; i++) {
		int fd = -1;

		if (avf_vm_status(self->v.vm, &st) == AVF_OK && st != AVF_VM_STATUS_RUNNING)
			break;
		if (avf_vm_connect_vsock(self->v.vm, VSOCK_STREAM_PORT, &fd) == AVF_OK) {
			/* An empty 'S' connection: count 0. */
			uint64_t out[2];

			ASSERT_EQ(1, write(fd, "S", 1));
			ASSERT_EQ(0, shutdown(fd, SHUT_WR));
			ASSERT_EQ(0, read_all(fd, out, sizeof(out)));
			EXPECT_EQ(0, out[0]);
			close(fd);
			return;
		}
		usleep(100 * 1000);
	}
	ASSERT_TRUE(false) TH_LOG("payload never listened: %s", avf_vm_last_error(self->v.vm));
}

FIXTURE_TEARDOWN(stream)
{
	if (self->v.vm) {
		char reply[32] = "";
		int fd = -1;

		if (_metadata->exit_code == KSFT_FAIL)
			api_vm_dump_log(self->v.vm);

		/* The payload counts what its children saw go wrong. */
		if (avf_vm_connect_vsock(self->v.vm, VSOCK_STREAM_PORT, &fd) == AVF_OK) {
			EXPECT_EQ(1, write(fd, "Q", 1));
			EXPECT_LT(0, read(fd, reply, sizeof(reply) - 1));
			EXPECT_STREQ("failures 0\n", reply);
			close(fd);
			EXPECT_EQ(AVF_OK, avf_vm_wait_stopped(self->v.vm, RUN_TIMEOUT_S * 1000));
		} else {
			EXPECT_TRUE(false) TH_LOG("VM unreachable at the end: %s",
						  avf_vm_last_error(self->v.vm));
		}
	}
	api_vm_end(&self->v);
}

/* 'E' with a writer thread and the reader here: full duplex at once. */
static int64_t echo_duplex(int fd, uint64_t len)
{
	struct writer w = { .fd = fd, .len = len };
	int64_t got;

	if (pthread_create(&w.t, NULL, writer_main, &w))
		return -1;
	got = read_pattern(fd);
	pthread_join(w.t, NULL);
	return w.ret ? -1 : got;
}

/* The reproducer: 1 MiB, SHUT_WR, everything must come back. */
TEST_F_TIMEOUT(stream, host_half_close_delivers_everything, 300)
{
	int fd = vm_connect(_metadata, self->v.vm, 'E');

	ASSERT_LE(0, fd);
	EXPECT_EQ((int64_t)(1 << 20), echo_duplex(fd, 1 << 20));
	close(fd);
}

TEST_F_TIMEOUT(stream, host_to_guest_64m, 900)
{
	for (int r = 0; r < reps(3); r++) {
		struct writer w;
		uint64_t out[2], want = FNV_INIT;
		uint8_t buf[CHUNK];
		double t;
		int fd = vm_connect(_metadata, self->v.vm, 'S'), rd;

		ASSERT_LE(0, fd);
		for (uint64_t off = 0; off < BIG; off += CHUNK) {
			for (size_t i = 0; i < CHUNK; i++)
				buf[i] = pattern(off + i);
			want = fnv(want, buf, CHUNK);
		}
		w.fd = fd;
		w.len = BIG;
		t = now_s();
		writer_main(&w);
		rd = w.ret ? -1 : read_all(fd, out, sizeof(out));
		if (w.ret || rd)
			api_vm_dump_log(self->v.vm);
		ASSERT_EQ(0, w.ret);
		ASSERT_EQ(0, rd);
		t = now_s() - t;
		EXPECT_EQ(BIG, out[0]);
		EXPECT_EQ(want, out[1]);
		TH_LOG("perf: host->guest %d: %.1f MiB/s", r, 64 / t);
		close(fd);
	}
}

/* Also the guest's half-close: the host still sends after the guest's EOF. */
TEST_F_TIMEOUT(stream, guest_to_host_64m_and_guest_half_close, 900)
{
	for (int r = 0; r < reps(3); r++) {
		uint64_t n = BIG;
		int64_t got;
		double t;
		int fd = vm_connect(_metadata, self->v.vm, 'G');

		ASSERT_LE(0, fd);
		ASSERT_EQ(8, write(fd, &n, 8));
		t = now_s();
		got = read_pattern(fd);
		t = now_s() - t;
		if (got != (int64_t)BIG)
			api_vm_dump_log(self->v.vm);
		EXPECT_EQ((int64_t)BIG, got);
		TH_LOG("perf: guest->host %d: %.1f MiB/s", r, 64 / t);
		/* The guest's half-close left our direction open. */
		EXPECT_EQ(6, write(fd, "after\n", 6));
		close(fd);
	}
}

/*
 * 64 MiB each way at once, 20 times on one VM (also the reliability
 * issue's bulk half), checksummed; any reset or stall fails it (the VM must
 * still answer 'Q' with 0 failures at the end).
 */
#define DUPLEX		BIG
TEST_F_TIMEOUT(stream, full_duplex_20x64m, 1800)
{
	for (int r = 0; r < reps(20); r++) {
		int64_t got;
		double t;
		int fd = vm_connect(_metadata, self->v.vm, 'E');

		ASSERT_LE(0, fd);
		t = now_s();
		got = echo_duplex(fd, DUPLEX);
		t = now_s() - t;
		if (got != (int64_t)DUPLEX)
			api_vm_dump_log(self->v.vm);
		EXPECT_EQ((int64_t)DUPLEX, got);
		TH_LOG("perf: full duplex %d: %.1f MiB/s each way", r, 64 / t);
		close(fd);
	}
}

struct conc {
	int fd;
	int64_t got;
	pthread_t t;
};

static void *conc_main(void *arg)
{
	struct conc *c = arg;

	c->got = echo_duplex(c->fd, 2 << 20);
	return NULL;
}

TEST_F_TIMEOUT(stream, concurrent_32, 600)
{
	struct conc c[32];

	for (int i = 0; i < 32; i++) {
		c[i].fd = vm_connect(_metadata, self->v.vm, 'E');
		ASSERT_LE(0, c[i].fd) TH_LOG("connection %d", i);
	}
	for (int i = 0; i < 32; i++)
		ASSERT_EQ(0, pthread_create(&c[i].t, NULL, conc_main, &c[i]));
	for (int i = 0; i < 32; i++) {
		pthread_join(c[i].t, NULL);
		EXPECT_EQ((int64_t)(2 << 20), c[i].got) TH_LOG("connection %d", i);
		close(c[i].fd);
	}
}

TEST_F_TIMEOUT(stream, abandoned_100_mid_transfer, 600)
{
	static uint8_t buf[256 * 1024];
	int fd;

	for (int i = 0; i < 100; i++) {
		fd = vm_connect(_metadata, self->v.vm, 'A');
		ASSERT_LE(0, fd) TH_LOG("connection %d", i);
		ASSERT_EQ(0, write_all(fd, buf, sizeof(buf)));
		ASSERT_EQ(0, read_all(fd, buf, 4096));
		close(fd);	/* mid-transfer: the echo still has bytes for us */
	}
	/* Still healthy: a fresh connection echoes. */
	fd = vm_connect(_metadata, self->v.vm, 'E');
	ASSERT_LE(0, fd);
	EXPECT_EQ((int64_t)(1 << 20), echo_duplex(fd, 1 << 20));
	close(fd);
}

/* utime + stime in clock ticks from a /proc/.../stat line; -1 if unreadable. */
static long long stat_ticks(const char *path)
{
	char line[1024], *p;
	unsigned long long ut, st;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (!p || !(p = strrchr(line, ')')))
		return -1;
	/* after ") ": state(3) ... utime is field 14, stime 15 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

/*
 * CPU ticks of @pid's threads other than the vCPUs ("vcpuN": their time
 * is the guest's, which under nested TCG is never idle). The VMM is
 * another uid; we are root in the test host.
 */
static long long vmm_device_ticks(pid_t pid)
{
	char dir[64], path[384], comm[32];
	long long sum = 0, t;
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return -1;
	while ((d = readdir(dp))) {
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", dir, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (!strncmp(comm, "vcpu", 4))
			continue;
		snprintf(path, sizeof(path), "%s/%s/stat", dir, d->d_name);
		t = stat_ticks(path);
		if (t > 0)
			sum += t;
	}
	closedir(dp);
	return sum;
}

TEST_F_TIMEOUT(stream, guest_that_stops_reading_costs_no_cpu, 300)
{
	struct avf_vm_state info;
	static uint8_t buf[CHUNK];
	long long before, after, hz = sysconf(_SC_CLK_TCK);
	uint64_t sent = 0;
	int fd = vm_connect(_metadata, self->v.vm, 'H');

	ASSERT_LE(0, fd);
	ASSERT_EQ(AVF_OK, avf_vm_info(self->v.vm, &info));
	ASSERT_NE(0, info.vmm_pid);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
	/* Fill the guest's window, the VMM's buffer and the socket. */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t w = write(fd, buf, sizeof(buf));

		if (w > 0) {
			sent += (uint64_t)w;
			continue;
		}
		ASSERT_EQ(EAGAIN, errno);
		/* Blocked for a whole second: everything is full. */
		if (poll(&p, 1, 1000) == 0)
			break;
	}
	before = vmm_device_ticks((pid_t)info.vmm_pid);
	ASSERT_LE(0, before);
	sleep(5);
	after = vmm_device_ticks((pid_t)info.vmm_pid);
	TH_LOG("sent %llu bytes; avf-vmm's non-vCPU threads used %lld ticks (%lld/s) in 5 s",
	       (unsigned long long)sent, after - before, hz);
	/* A spinning device thread would burn ~5 s; idle is a few ticks. */
	EXPECT_GT(hz / 2, after - before);
	close(fd);
}

/* vmm.log holds @needle (read whole, up to 256 KiB). */
static bool vmm_log_has(struct avf_vm *vm, const char *needle)
{
	static char buf[256 << 10];
	char path[4096];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/vmm.log", avf_vm_dir(vm));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n < 0)
		return false;
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

/*
 * A connection that stops moving with bytes the guest has not taken is a
 * stall as far as the VMM can tell (here the payload stopped reading on
 * purpose): vmm.log says so, with the connection's counters and where the
 * guest's vCPU was (vmm.rst, "Diagnosing a stall").
 */
TEST_F_TIMEOUT(stream, stalled_connection_is_logged_with_the_vcpus, 300)
{
	static uint8_t buf[CHUNK];
	bool logged = false;
	int fd = vm_connect(_metadata, self->v.vm, 'H');

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	/* VSOCK_STALL_LOG_MS is 10 s; the test host may be slow */
	for (int i = 0; i < 60 && !logged; i++) {
		sleep(1);
		logged = vmm_log_has(self->v.vm, "no progress for") &&
			 vmm_log_has(self->v.vm, "vcpu0: at vsock stall: ");
	}
	if (!logged)
		api_vm_dump_log(self->v.vm);
	EXPECT_TRUE(logged);
	close(fd);
}

/* Round-trip latency of 1-byte requests (reported, not asserted). */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

TEST_F_TIMEOUT(stream, round_trip_latency, 300)
{
	enum { N = 2000 };
	static double lat[N];
	char ch = 'x';
	int fd = vm_connect(_metadata, self->v.vm, 'E');

	ASSERT_LE(0, fd);
	for (int i = 0; i < N; i++) {
		double t = now_s();

		ASSERT_EQ(1, write(fd, &ch, 1));
		ASSERT_EQ(1, read(fd, &ch, 1));
		lat[i] = now_s() - t;
	}
	qsort(lat, N, sizeof(lat[0]), cmp_double);
	TH_LOG("perf: round trip (1 byte, %d requests): median %.1f us, p99 %.1f us", N,
	       lat[N / 2] * 1e6, lat[N * 99 / 100] * 1e6);
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	EXPECT_EQ(0, read(fd, &ch, 1));
	close(fd);
}

TEST_HARNESS_MAIN
