// SPDX-License-Identifier: GPL-2.0
/* virtio-console output path and the bounded output sink (RELIABILITY.md 18). */
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "fake_guest.h"
#include "outsink.h"
#include "virtio_console.h"

struct capture {
	uint8_t buf[256];
	size_t len;
};

static void cap_sink(void *opaque, const uint8_t *buf, size_t len)
{
	struct capture *c = opaque;

	if (len > sizeof(c->buf) - c->len)
		len = sizeof(c->buf) - c->len;
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
}

TEST(tx_reaches_sink)
{
	struct console_dev con;
	struct capture cap = { .len = 0 };
	struct fake_guest g;

	fg_init(&g);
	ASSERT_EQ(0, console_dev_init(&con, &g.mem, cap_sink, &cap));
	fg_vq(&g, &con.vd.vq[1], 8, 0);
	ASSERT_EQ(0, virtq_activate(&con.vd.vq[1], &g.mem, false));
	con.vd.status = 0xf;
	memcpy(g.mem.host + FG_DATA, "hello ", 6);
	memcpy(g.mem.host + FG_DATA + 0x100, "world\n", 6);
	fg_set_desc(&g, FG_DESC, 0, FG_DATA, 6, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&g, FG_DESC, 1, FG_DATA + 0x100, 6, 0, 0);
	fg_publish(&g, &con.vd.vq[1], 0);
	virtio_dev_process(&con.vd);
	ASSERT_EQ(12U, cap.len);
	EXPECT_EQ(0, memcmp(cap.buf, "hello world\n", 12));
	EXPECT_EQ(1, fg_used(&g, &con.vd.vq[1])->idx);
	virtio_dev_exit(&con.vd);
	fg_free(&g);
}

TEST(rx_queue_left_alone)
{
	struct console_dev con;
	struct capture cap = { .len = 0 };
	struct fake_guest g;

	fg_init(&g);
	ASSERT_EQ(0, console_dev_init(&con, &g.mem, cap_sink, &cap));
	fg_vq(&g, &con.vd.vq[0], 8, 0);
	ASSERT_EQ(0, virtq_activate(&con.vd.vq[0], &g.mem, false));
	con.vd.status = 0xf;
	fg_set_desc(&g, FG_DESC, 0, FG_DATA, 64, VRING_DESC_F_WRITE, 0);
	fg_publish(&g, &con.vd.vq[0], 0);
	virtio_dev_process(&con.vd);
	EXPECT_EQ(0, fg_used(&g, &con.vd.vq[0])->idx);
	EXPECT_EQ(0U, cap.len);
	virtio_dev_exit(&con.vd);
	fg_free(&g);
}

static long rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * 100 MB into a pipe nobody reads: never blocks, memory stays flat, the
 * excess is dropped and counted.
 */
TEST(flood_into_unread_pipe)
{
	static struct outsink s;
	static uint8_t chunk[64 * 1024];
	const size_t total = 100UL << 20;
	long rss_before, rss_after;
	double t0;
	size_t done;
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	outsink_init(&s, p[1]);
	memset(chunk, 'x', sizeof(chunk));
	outsink_put(&s, chunk, sizeof(chunk));	/* warm up */
	rss_before = rss_kb();
	t0 = now_s();
	for (done = 0; done < total; done += sizeof(chunk))
		outsink_put(&s, chunk, sizeof(chunk));
	rss_after = rss_kb();
	(void)t0;	/* no timing assertions: a slow machine is not a bug */
	/*
	 * Flat memory: 1% of the process, with a 256 KiB floor for the page
	 * noise of sanitizer runtimes (their quarantine and shadow pages).
	 */
	EXPECT_LE(rss_after - rss_before, rss_before / 100 + 256);
	EXPECT_GT(s.dropped, (uint64_t)total - (1U << 20));
	EXPECT_LE(outsink_pending(&s), (size_t)CONSOLE_RING_BYTES);
	close(p[0]);
	/* Reader gone: the sink gives up on the fd instead of failing. */
	outsink_put(&s, chunk, 10);
	outsink_flush(&s);
	EXPECT_EQ(-1, s.fd);
	close(p[1]);
}

TEST(sink_delivers_in_order)
{
	static struct outsink s;
	char back[64];
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	outsink_init(&s, p[1]);
	outsink_put(&s, "abc", 3);
	outsink_put(&s, "def", 3);
	outsink_flush(&s);
	ASSERT_EQ(6, read(p[0], back, sizeof(back)));
	EXPECT_EQ(0, memcmp(back, "abcdef", 6));
	EXPECT_EQ(0U, s.dropped);
	close(p[0]);
	close(p[1]);
}

TEST(discard_sink)
{
	static struct outsink s;

	outsink_init(&s, -1);
	outsink_put(&s, "abc", 3);
	EXPECT_EQ(3U, s.dropped);
	EXPECT_EQ(0U, outsink_pending(&s));
}

TEST_HARNESS_MAIN
