// SPDX-License-Identifier: GPL-2.0
/* virtio-console output path and the bounded output sink (RELIABILITY.md 18). */
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>

#include "kselftest_harness.h"

#include "fake_guest.h"
#include "outsink.h"
#include "virtio_console.h"

struct capture {
	uint8_t buf[256];
	size_t len;
	size_t budget;		/* bytes it takes before it is "full" */
};

static size_t cap_sink(void *opaque, const uint8_t *buf, size_t len)
{
	struct capture *c = opaque;

	if (len > sizeof(c->buf) - c->len)
		len = sizeof(c->buf) - c->len;
	if (len > c->budget)
		len = c->budget;
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	c->budget -= len;
	return len;
}

TEST(tx_reaches_sink)
{
	struct console_dev con;
	struct capture cap = { .len = 0, .budget = SIZE_MAX };
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

/*
 * A sink that takes part of a chain holds it: not used, nothing more
 * popped; once the sink has room the rest follows in order, then the next
 * chain. A reset forgets the held chain.
 */
TEST(backpressure_holds_the_chain)
{
	struct console_dev con;
	struct capture cap = { .len = 0, .budget = 4 };
	struct fake_guest g;

	fg_init(&g);
	ASSERT_EQ(0, console_dev_init(&con, &g.mem, cap_sink, &cap));
	fg_vq(&g, &con.vd.vq[1], 8, 0);
	ASSERT_EQ(0, virtq_activate(&con.vd.vq[1], &g.mem, false));
	con.vd.status = 0xf;
	memcpy(g.mem.host + FG_DATA, "hello ", 6);
	memcpy(g.mem.host + FG_DATA + 0x100, "world\n", 6);
	memcpy(g.mem.host + FG_DATA + 0x200, "next", 4);
	fg_set_desc(&g, FG_DESC, 0, FG_DATA, 6, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&g, FG_DESC, 1, FG_DATA + 0x100, 6, 0, 0);
	fg_set_desc(&g, FG_DESC, 2, FG_DATA + 0x200, 4, 0, 0);
	fg_publish(&g, &con.vd.vq[1], 0);
	fg_publish(&g, &con.vd.vq[1], 2);
	virtio_dev_process(&con.vd);
	EXPECT_EQ(4U, cap.len);
	EXPECT_TRUE(console_dev_blocked(&con));
	EXPECT_EQ(0, fg_used(&g, &con.vd.vq[1])->idx);

	virtio_dev_process(&con.vd);	/* still full: no progress, no loss */
	EXPECT_EQ(4U, cap.len);
	EXPECT_EQ(0, fg_used(&g, &con.vd.vq[1])->idx);

	cap.budget = 5;			/* "llo w": into the second segment */
	virtio_dev_process(&con.vd);
	EXPECT_EQ(9U, cap.len);
	EXPECT_EQ(0, fg_used(&g, &con.vd.vq[1])->idx);

	cap.budget = SIZE_MAX;
	virtio_dev_process(&con.vd);
	ASSERT_EQ(16U, cap.len);
	EXPECT_EQ(0, memcmp(cap.buf, "hello world\nnext", 16));
	EXPECT_FALSE(console_dev_blocked(&con));
	EXPECT_EQ(2, fg_used(&g, &con.vd.vq[1])->idx);
	EXPECT_EQ(16U, con.bytes);

	/* Held again, then the driver resets the device. */
	cap.budget = 1;
	fg_publish(&g, &con.vd.vq[1], 2);
	virtio_dev_process(&con.vd);
	EXPECT_TRUE(console_dev_blocked(&con));
	virtio_mmio_write(&con.vd, VIRTIO_MMIO_STATUS, &(uint32_t){ 0 }, 4);
	EXPECT_FALSE(console_dev_blocked(&con));
	virtio_dev_exit(&con.vd);
	fg_free(&g);
}

TEST(rx_queue_left_alone)
{
	struct console_dev con;
	struct capture cap = { .len = 0, .budget = SIZE_MAX };
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

/* Capture off: discarded, not "dropped" (nothing the owner asked for was lost). */
TEST(discard_sink)
{
	static struct outsink s;

	outsink_init(&s, -1);
	outsink_put(&s, "abc", 3);
	EXPECT_EQ(3U, outsink_take(&s, "def", 3));
	EXPECT_EQ(0U, s.dropped);
	EXPECT_EQ(6U, s.discarded);
	EXPECT_EQ(0U, outsink_pending(&s));
}

/*
 * The payload log's sink: with nobody reading it takes what fits (pipe +
 * ring) and then nothing, drops nothing; every byte arrives, in order, once
 * the reader drains; memory stays flat.
 */
TEST(take_applies_backpressure_and_loses_nothing)
{
	static struct outsink s;
	static uint8_t chunk[16 * 1024], back[64 * 1024];
	const size_t total = 8UL << 20;
	size_t off = 0, got = 0, stalls = 0;
	uint64_t bad = 0;
	int p[2], i;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC | O_NONBLOCK));
	outsink_init(&s, p[1]);
	/* nobody reads: fill until the sink refuses */
	while (off < total) {
		size_t want = total - off < sizeof(chunk) ? total - off : sizeof(chunk);
		size_t k, n;

		for (k = 0; k < want; k++)
			chunk[k] = (uint8_t)((off + k) * 7 + ((off + k) >> 13));
		n = outsink_take(&s, chunk, want);
		off += n;
		if (n < want)
			break;
	}
	EXPECT_LT(off, total);
	EXPECT_EQ(0U, outsink_take(&s, chunk, 1));	/* still full */
	EXPECT_EQ(0U, s.dropped);
	EXPECT_EQ((size_t)CONSOLE_RING_BYTES, outsink_pending(&s));
	/* now a reader drains while the writer resumes from where it stopped */
	while (got < total) {
		ssize_t r = read(p[0], back, sizeof(back));

		if (r > 0) {
			for (i = 0; i < r; i++)
				bad += back[i] != (uint8_t)((got + i) * 7 + ((got + i) >> 13));
			got += (size_t)r;
		} else if (++stalls > 1000000) {
			break;
		}
		if (off < total) {
			size_t want = total - off < sizeof(chunk) ? total - off : sizeof(chunk);
			size_t k;

			for (k = 0; k < want; k++)
				chunk[k] = (uint8_t)((off + k) * 7 + ((off + k) >> 13));
			off += outsink_take(&s, chunk, want);
		} else {
			outsink_flush(&s);
		}
	}
	EXPECT_EQ(total, got);
	EXPECT_EQ(0U, bad);
	EXPECT_EQ(0U, s.dropped);
	EXPECT_EQ((uint64_t)total, s.written);
	close(p[0]);
	/* Reader gone: the rest is dropped and counted, the sink never blocks. */
	EXPECT_EQ(3U, outsink_take(&s, "abc", 3) + outsink_take(&s, "", 0));
	outsink_flush(&s);
	EXPECT_EQ(-1, s.fd);
	EXPECT_EQ(10U, outsink_take(&s, "0123456789", 10));
	EXPECT_EQ(13U, s.dropped);
	close(p[1]);
}

/* End of a run: the console's leftover is counted; the log is drained. */
TEST(end_of_run_counts_or_drains)
{
	static struct outsink con, log;
	static uint8_t chunk[32 * 1024];
	char back[4096];
	uint64_t before;
	int cp[2], lp[2];
	ssize_t r;
	size_t got = 0;

	ASSERT_EQ(0, pipe2(cp, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(lp, O_CLOEXEC));
	outsink_init(&con, cp[1]);
	outsink_init(&log, lp[1]);
	memset(chunk, 'c', sizeof(chunk));
	while (outsink_pending(&con) < (size_t)CONSOLE_RING_BYTES)
		outsink_put(&con, chunk, sizeof(chunk));
	before = con.dropped;
	outsink_abandon(&con);
	EXPECT_EQ(before + CONSOLE_RING_BYTES, con.dropped);
	EXPECT_EQ(0U, outsink_pending(&con));

	/* the log reader is gone: drain gives up at once and counts */
	while (outsink_take(&log, chunk, sizeof(chunk)) == sizeof(chunk))
		;
	close(lp[0]);
	outsink_drain(&log, 100000);
	EXPECT_EQ(-1, log.fd);
	EXPECT_EQ((uint64_t)CONSOLE_RING_BYTES, log.dropped);
	close(lp[1]);

	/* a reader that keeps reading gets everything */
	ASSERT_EQ(0, pipe2(lp, O_CLOEXEC));
	outsink_init(&log, lp[1]);
	while (outsink_take(&log, chunk, sizeof(chunk)) == sizeof(chunk))
		;
	if (fork() == 0) {
		outsink_drain(&log, 100000);
		_exit(log.dropped ? 1 : 0);
	}
	close(lp[1]);
	while ((r = read(lp[0], back, sizeof(back))) > 0)
		got += (size_t)r;
	EXPECT_EQ(log.written + outsink_pending(&log), (uint64_t)got);
	close(lp[0]);
	close(cp[0]);
	close(cp[1]);
}

TEST_HARNESS_MAIN
