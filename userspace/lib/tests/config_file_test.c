// SPDX-License-Identifier: GPL-2.0
/*
 * The instance config file format: round trip, versions, truncated and
 * hostile input; plus the other instance files and descriptor passing.
 */
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"

static const char good[] =
	"{\n"
	"  \"format\": \"avf-vm-config\",\n"
	"  \"version\": 1,\n"
	"  \"payload_binary_name\": \"hello.so\",\n"
	"  \"apk_path\": \"/opt/apps/hello.zip\",\n"
	"  \"debug_level\": \"full\",\n"
	"  \"protected_vm\": false,\n"
	"  \"memory_bytes\": 536870912,\n"
	"  \"cpu_topology\": \"match_host\",\n"
	"  \"encrypted_storage_bytes\": 1048576,\n"
	"  \"vm_output_captured\": true\n"
	"}\n";

static int parse(const char *text, char **msg)
{
	struct avf_config *c = NULL;
	int ret = avf_config_from_text(text, strlen(text), &c, msg);

	avf_config_free(c);
	return ret;
}

/* Replaces the first @from in good[] with @to and parses the result. */
static int parse_edit(const char *from, const char *to, char **msg)
{
	char buf[2048];
	const char *p = strstr(good, from);
	int ret;

	if (!p)
		return 1000;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - good), good, to, p + strlen(from));
	ret = parse(buf, msg);
	return ret;
}

TEST(round_trip)
{
	struct avf_config_builder *b = tu_builder();
	struct avf_config *a = NULL, *c = NULL;
	char *text = NULL, *text2 = NULL;

	ASSERT_NE(NULL, b);
	avf_config_builder_set_debug_level(b, AVF_DEBUG_LEVEL_FULL);
	avf_config_builder_set_vm_output_captured(b, true);
	avf_config_builder_set_memory_bytes(b, 300ull << 20);
	avf_config_builder_set_cpu_topology(b, AVF_CPU_TOPOLOGY_MATCH_HOST);
	avf_config_builder_set_encrypted_storage_bytes(b, 10000);
	ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &a));
	ASSERT_EQ(AVF_OK, avf_config_to_text(a, &text));
	ASSERT_EQ(AVF_OK, avf_config_from_text(text, strlen(text), &c, NULL));
	EXPECT_STREQ(avf_config_payload_binary_name(a), avf_config_payload_binary_name(c));
	EXPECT_STREQ(avf_config_apk_path(a), avf_config_apk_path(c));
	EXPECT_EQ(avf_config_debug_level(a), avf_config_debug_level(c));
	EXPECT_EQ(avf_config_protected_vm(a), avf_config_protected_vm(c));
	EXPECT_EQ(avf_config_memory_bytes(a), avf_config_memory_bytes(c));
	EXPECT_EQ(avf_config_cpu_topology(a), avf_config_cpu_topology(c));
	EXPECT_EQ(avf_config_encrypted_storage_bytes(a), avf_config_encrypted_storage_bytes(c));
	EXPECT_EQ(avf_config_vm_output_captured(a), avf_config_vm_output_captured(c));
	ASSERT_EQ(AVF_OK, avf_config_to_text(c, &text2));
	EXPECT_STREQ(text, text2);
	free(text);
	free(text2);
	avf_config_free(a);
	avf_config_free(c);
	avf_config_builder_free(b);
}

TEST(known_good_file)
{
	struct avf_config *c = NULL;

	ASSERT_EQ(AVF_OK, avf_config_from_text(good, strlen(good), &c, NULL));
	EXPECT_EQ(512ull << 20, avf_config_memory_bytes(c));
	EXPECT_EQ(AVF_CPU_TOPOLOGY_MATCH_HOST, avf_config_cpu_topology(c));
	EXPECT_EQ(AVF_DEBUG_LEVEL_FULL, avf_config_debug_level(c));
	avf_config_free(c);
}

TEST(unknown_version)
{
	char *msg = NULL;

	EXPECT_EQ(AVF_E_VERSION, parse_edit("\"version\": 1", "\"version\": 2", &msg));
	ASSERT_NE(NULL, msg);
	EXPECT_NE(NULL, strstr(msg, "version 2"));
	free(msg);
	EXPECT_EQ(AVF_E_VERSION, parse_edit("\"version\": 1", "\"version\": 0", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("\"version\": 1", "\"version\": \"1\"", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("\"version\": 1,", "", NULL));
}

TEST(every_truncation_is_rejected)
{
	size_t len = strlen(good);

	/* Cut after every byte short of the closing brace. */
	for (size_t n = 0; n < len - 2; n++) {
		struct avf_config *c = NULL;
		char *msg = NULL;
		int ret = avf_config_from_text(good, n, &c, &msg);

		EXPECT_EQ(AVF_E_CORRUPT, ret) TH_LOG("accepted a file cut at %zu bytes", n);
		EXPECT_EQ(NULL, c);
		if (n > 0 && msg)
			EXPECT_NE(NULL, strstr(msg, "config"));
		free(msg);
		avf_config_free(c);
	}
}

TEST(hostile_files)
{
	char *msg = NULL;
	char *deep, *big;
	size_t n;

	EXPECT_EQ(AVF_E_CORRUPT, parse("", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse("[]", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse("null", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse("\x7f" "ELF", NULL));
	/* Trailing garbage after a complete object. */
	{
		char buf[2048];

		snprintf(buf, sizeof(buf), "%sgarbage", good);
		EXPECT_EQ(AVF_E_CORRUPT, parse(buf, &msg));
		EXPECT_NE(NULL, strstr(msg, "config:"));
		free(msg);
		msg = NULL;
		snprintf(buf, sizeof(buf), "%s%s", good, good);
		EXPECT_EQ(AVF_E_CORRUPT, parse(buf, NULL));
	}
	/* Embedded NUL. */
	{
		struct avf_config *c = NULL;
		char buf[sizeof(good)];

		memcpy(buf, good, sizeof(good));
		buf[20] = '\0';
		EXPECT_EQ(AVF_E_CORRUPT, avf_config_from_text(buf, sizeof(good) - 1, &c, NULL));
	}
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("hello.so", "hel\\u0000lo.so", NULL));
	/* Values that break the builder's rules. */
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("hello.so", "../../etc/x.so", &msg));
	EXPECT_NE(NULL, strstr(msg, "'/'"));
	free(msg);
	msg = NULL;
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("/opt/apps/hello.zip", "relative.zip", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("\"full\"", "\"none\"", NULL)); /* capture w/o FULL */
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("\"full\"", "\"verbose\"", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("\"match_host\"", "\"all\"", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("536870912", "536870913", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("536870912", "-1", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("536870912", "99999999999999999999999", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("536870912", "5.5", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("1048576", "1000", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("false", "0", NULL));
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("avf-vm-config", "something-else", NULL));
	/* Unknown and missing fields. */
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("\"version\": 1,", "\"version\": 1, \"x\": 1,", &msg));
	EXPECT_NE(NULL, strstr(msg, "unknown field"));
	free(msg);
	msg = NULL;
	EXPECT_EQ(AVF_E_CORRUPT, parse_edit("\"protected_vm\": false,", "", &msg));
	EXPECT_NE(NULL, strstr(msg, "protected_vm"));
	free(msg);
	/* Deep nesting. */
	n = 10000;
	deep = malloc(2 * n + 1);
	ASSERT_NE(NULL, deep);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	EXPECT_EQ(AVF_E_CORRUPT, parse(deep, NULL));
	free(deep);
	/* Oversized file. */
	n = 200000;
	big = malloc(n + 64);
	ASSERT_NE(NULL, big);
	strcpy(big, "{\"format\": \"");
	memset(big + strlen(big), 'a', n);
	strcpy(big + 12 + n, "\"}");
	EXPECT_EQ(AVF_E_CORRUPT, parse(big, &msg));
	EXPECT_NE(NULL, strstr(msg, "larger"));
	free(msg);
	free(big);
}

FIXTURE(dir)
{
	char path[64];
	int dirfd;
};

FIXTURE_SETUP(dir)
{
	strcpy(self->path, "/tmp/avf-unit-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->path));
	self->dirfd = open(self->path, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, self->dirfd);
}

FIXTURE_TEARDOWN(dir)
{
	close(self->dirfd);
	avf__rm_rf(self->path);
}

TEST_F(dir, store_and_load)
{
	struct avf_config *a = tu_config(), *c = NULL;
	char err[AVF_ERRMSG_MAX] = "";
	struct stat st;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(AVF_OK, avf__config_store(self->dirfd, a, err));
	ASSERT_EQ(AVF_OK, avf__config_load(self->dirfd, &c, err));
	EXPECT_TRUE(avf_config_is_compatible_with(a, c));
	/* No temporary file stays behind; the file is private. */
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", self->path);
		EXPECT_EQ(0, system(cmd));
	}
	ASSERT_EQ(0, fstatat(self->dirfd, "config", &st, 0));
	EXPECT_EQ(0600, st.st_mode & 0777);
	avf_config_free(a);
	avf_config_free(c);
}

TEST_F(dir, load_errors)
{
	struct avf_config *c = NULL;
	char err[AVF_ERRMSG_MAX] = "";
	int fd;

	EXPECT_EQ(AVF_E_NOT_FOUND, avf__config_load(self->dirfd, &c, err));
	/* A torn file (what a non-atomic writer could leave). */
	fd = openat(self->dirfd, "config", O_WRONLY | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(40, write(fd, good, 40));
	close(fd);
	EXPECT_EQ(AVF_E_CORRUPT, avf__config_load(self->dirfd, &c, err));
	EXPECT_NE(NULL, strstr(err, "truncated"));
	/* Oversized on disk. */
	fd = openat(self->dirfd, "config", O_WRONLY | O_TRUNC);
	ASSERT_EQ(0, ftruncate(fd, 1 << 20));
	close(fd);
	EXPECT_EQ(AVF_E_CORRUPT, avf__config_load(self->dirfd, &c, err));
	/* Not a regular file. */
	unlinkat(self->dirfd, "config", 0);
	ASSERT_EQ(0, mkdirat(self->dirfd, "config", 0700));
	EXPECT_NE(AVF_OK, avf__config_load(self->dirfd, &c, err));
	EXPECT_EQ(NULL, c);
}

TEST_F(dir, instance_img)
{
	char err[AVF_ERRMSG_MAX] = "";
	unsigned char blob[AVF_INSTANCE_IMG_SIZE];
	int fd;

	memset(blob, 0x5a, sizeof(blob));
	/* Only a whole sealed state is written. */
	EXPECT_EQ(AVF_E_INVALID, avf__write_instance_img(self->dirfd, NULL, 0, err));
	EXPECT_EQ(AVF_E_INVALID, avf__write_instance_img(self->dirfd, blob, 100, err));
	ASSERT_EQ(AVF_OK, avf__write_instance_img(self->dirfd, blob, sizeof(blob), err));
	fd = openat(self->dirfd, "instance.img", O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(AVF_OK, avf__check_instance_img(fd, err));
	/* Truncated or grown: rejected. */
	ASSERT_EQ(0, ftruncate(fd, 100));
	EXPECT_EQ(AVF_E_CORRUPT, avf__check_instance_img(fd, err));
	EXPECT_NE(NULL, strstr(err, "truncated"));
	ASSERT_EQ(0, ftruncate(fd, 4096));
	EXPECT_EQ(AVF_E_CORRUPT, avf__check_instance_img(fd, err));
	close(fd);
	/* Not a regular file. */
	fd = open("/dev/null", O_RDONLY);
	EXPECT_EQ(AVF_E_CORRUPT, avf__check_instance_img(fd, err));
	close(fd);
	/* The new-instance marker is an empty file. */
	ASSERT_EQ(AVF_OK, avf__write_marker(self->dirfd, "new_instance", err));
	EXPECT_EQ(0, faccessat(self->dirfd, "new_instance", F_OK, 0));
}

TEST_F(dir, sparse_storage_and_copy)
{
	char err[AVF_ERRMSG_MAX] = "";
	struct stat st;
	int src, copydir;
	char sub[96];

	ASSERT_EQ(AVF_OK, avf__create_sparse(self->dirfd, "storage.img", 64ull << 20, err));
	ASSERT_EQ(0, fstatat(self->dirfd, "storage.img", &st, 0));
	EXPECT_EQ(64ll << 20, st.st_size);
	EXPECT_GT(1024 * 1024, st.st_blocks * 512); /* sparse */
	src = openat(self->dirfd, "storage.img", O_RDWR);
	ASSERT_LE(0, src);
	ASSERT_EQ(5, pwrite(src, "hello", 5, 10 << 20));
	snprintf(sub, sizeof(sub), "%s/copy", self->path);
	ASSERT_EQ(0, mkdir(sub, 0700));
	copydir = open(sub, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, copydir);
	ASSERT_EQ(AVF_OK, avf__copy_fd(src, copydir, "storage.img", true, err));
	ASSERT_EQ(0, fstatat(copydir, "storage.img", &st, 0));
	EXPECT_EQ(64ll << 20, st.st_size);
	EXPECT_GT(1024 * 1024, st.st_blocks * 512);
	{
		char b[5];
		int fd = openat(copydir, "storage.img", O_RDONLY);

		ASSERT_EQ(5, pread(fd, b, 5, 10 << 20));
		EXPECT_EQ(0, memcmp(b, "hello", 5));
		close(fd);
	}
	/* The destination must not exist yet. */
	EXPECT_EQ(AVF_E_EXISTS, avf__copy_fd(src, copydir, "storage.img", true, err));
	close(src);
	close(copydir);
}

TEST_F(dir, lock_excludes)
{
	char err[AVF_ERRMSG_MAX] = "";
	int a = -1, b = -1;

	ASSERT_EQ(AVF_OK, avf__lock_instance(self->path, LOCK_EX, &a, err));
	EXPECT_EQ(AVF_E_BUSY, avf__lock_instance(self->path, LOCK_EX, &b, err));
	EXPECT_EQ(AVF_E_BUSY, avf__lock_instance(self->path, LOCK_SH, &b, err));
	close(a);
	ASSERT_EQ(AVF_OK, avf__lock_instance(self->path, LOCK_SH, &a, err));
	ASSERT_EQ(AVF_OK, avf__lock_instance(self->path, LOCK_SH, &b, err));
	close(a);
	close(b);
}

/* RELIABILITY 21: a writer killed at any moment leaves the old or the new file. */
TEST_F(dir, kill_during_update_leaves_a_whole_file)
{
	struct avf_config_builder *b = tu_builder();
	struct avf_config *a = NULL, *big = NULL, *got = NULL;
	char err[AVF_ERRMSG_MAX];

	ASSERT_NE(NULL, b);
	ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &a));
	avf_config_builder_set_memory_bytes(b, 4096ull << 20);
	ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &big));
	ASSERT_EQ(AVF_OK, avf__config_store(self->dirfd, a, err));
	for (int i = 0; i < 40; i++) {
		struct timespec ts = { 0, (i % 8) * 250000L };
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			for (int k = 0;; k++)
				avf__config_store(self->dirfd, k & 1 ? a : big, NULL);
		}
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ASSERT_EQ(AVF_OK, avf__config_load(self->dirfd, &got, err)) TH_LOG("%s", err);
		EXPECT_TRUE(avf_config_memory_bytes(got) == 0 ||
			    avf_config_memory_bytes(got) == (4096ull << 20));
		avf_config_free(got);
		got = NULL;
	}
	avf_config_free(a);
	avf_config_free(big);
	avf_config_builder_free(b);
}

TEST(vm_names)
{
	char err[AVF_ERRMSG_MAX];
	char longname[80];

	EXPECT_EQ(AVF_OK, avf__valid_name("my vm", err));
	EXPECT_EQ(AVF_OK, avf__valid_name(".hidden", err));
	EXPECT_EQ(AVF_E_INVALID, avf__valid_name("", err));
	EXPECT_EQ(AVF_E_INVALID, avf__valid_name(".", err));
	EXPECT_EQ(AVF_E_INVALID, avf__valid_name("..", err));
	EXPECT_EQ(AVF_E_INVALID, avf__valid_name("a/b", err));
	EXPECT_EQ(AVF_E_INVALID, avf__valid_name("a\tb", err));
	EXPECT_EQ(AVF_E_INVALID, avf__valid_name(NULL, err));
	memset(longname, 'x', 64);
	longname[64] = '\0';
	EXPECT_EQ(AVF_E_INVALID, avf__valid_name(longname, err));
	longname[63] = '\0';
	EXPECT_EQ(AVF_OK, avf__valid_name(longname, err));
}

static int count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static int tmpfile_with(const char *text)
{
	char path[] = "/tmp/avf-unit-fd-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends a raw descriptor header with @n fds attached. */
static ssize_t send_raw(int sock, uint16_t version, uint16_t nfds, uint32_t flags,
			const int *fds, int n)
{
	struct {
		char magic[4];
		uint16_t version, nfds;
		uint32_t flags, reserved;
	} h = { { 'A', 'V', 'F', 'D' }, version, nfds, flags, 0 };
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr msg = { 0 };
	struct cmsghdr *c;

	memset(&u, 0, sizeof(u));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	return sendmsg(sock, &msg, 0);
}

TEST(descriptor_over_socketpair)
{
	struct avf_descriptor d = { 2, -1, -1, -1, -1 }, *r = NULL;
	int sv[2], xfer[2];
	char b[8] = "";

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	/* The transfer object is an anon-inode fd of the module; a pipe here. */
	ASSERT_EQ(0, pipe2(xfer, O_CLOEXEC));
	d.config_fd = tmpfile_with("config");
	d.instance_id_fd = tmpfile_with("id");
	d.transfer_fd = xfer[0];
	d.storage_fd = tmpfile_with("storage");
	ASSERT_EQ(AVF_OK, avf_descriptor_send(sv[0], &d));
	ASSERT_EQ(AVF_OK, avf_descriptor_recv(sv[1], &r));
	EXPECT_EQ(2, r->version);
	ASSERT_EQ(7, pread(r->storage_fd, b, 7, 0));
	EXPECT_EQ(0, memcmp(b, "storage", 7));
	ASSERT_EQ(6, pread(r->config_fd, b, 6, 0));
	EXPECT_EQ(0, memcmp(b, "config", 6));
	EXPECT_TRUE(fcntl(r->config_fd, F_GETFD) & FD_CLOEXEC);
	/* The third fd is the transfer object, in order. */
	ASSERT_EQ(1, write(xfer[1], "t", 1));
	ASSERT_EQ(1, read(r->transfer_fd, b, 1));
	EXPECT_EQ('t', b[0]);
	avf_descriptor_free(r);
	r = NULL;

	/* Without storage. */
	close(d.storage_fd);
	d.storage_fd = -1;
	ASSERT_EQ(AVF_OK, avf_descriptor_send(sv[0], &d));
	ASSERT_EQ(AVF_OK, avf_descriptor_recv(sv[1], &r));
	EXPECT_EQ(-1, r->storage_fd);
	avf_descriptor_free(r);
	r = NULL;

	/* A hostile peer: right size, wrong magic, with an fd attached. */
	{
		char junk[16] = "NOPE";

		ASSERT_EQ(16, write(sv[0], junk, sizeof(junk)));
		EXPECT_EQ(AVF_E_PROTOCOL, avf_descriptor_recv(sv[1], &r));
		EXPECT_EQ(NULL, r);
	}
	{
		int p[2], fds[4], before;

		ASSERT_EQ(0, pipe(p));
		before = count_fds();
		/* A pipe where a file belongs: refused, nothing leaks. */
		fds[0] = d.config_fd;
		fds[1] = p[0];
		fds[2] = d.transfer_fd;
		ASSERT_LT(0, send_raw(sv[0], 2, 3, 0, fds, 3));
		EXPECT_EQ(AVF_E_PROTOCOL, avf_descriptor_recv(sv[1], &r));
		EXPECT_EQ(NULL, r);
		EXPECT_EQ(before, count_fds());
		/* Header says 4 fds, 3 attached. */
		fds[1] = d.instance_id_fd;
		ASSERT_LT(0, send_raw(sv[0], 2, 4, 1, fds, 3));
		EXPECT_EQ(AVF_E_PROTOCOL, avf_descriptor_recv(sv[1], &r));
		EXPECT_EQ(before, count_fds());
		/* An unknown format version. */
		ASSERT_LT(0, send_raw(sv[0], 3, 3, 0, fds, 3));
		EXPECT_EQ(AVF_E_VERSION, avf_descriptor_recv(sv[1], &r));
		EXPECT_EQ(NULL, r);
		EXPECT_EQ(before, count_fds());
		close(p[0]);
		close(p[1]);
	}
	/* Peer hung up. */
	close(sv[0]);
	EXPECT_NE(AVF_OK, avf_descriptor_recv(sv[1], &r));
	close(sv[1]);
	close(d.config_fd);
	close(d.instance_id_fd);
	close(xfer[0]);
	close(xfer[1]);
}

/*
 * A version-1 descriptor (instance.img by value, from an older libavf) is
 * received, then refused at import with a message that says why.
 */
TEST(descriptor_version_1_is_refused_at_import)
{
	struct avf_manager m;
	struct avf_descriptor *r = NULL;
	struct avf_vm *vm = (struct avf_vm *)1;
	int sv[2], fds[3];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	fds[0] = tmpfile_with("config");
	fds[1] = tmpfile_with("id");
	fds[2] = tmpfile_with("instance.img");
	ASSERT_LT(0, send_raw(sv[0], 1, 3, 0, fds, 3));
	ASSERT_EQ(AVF_OK, avf_descriptor_recv(sv[1], &r));
	EXPECT_EQ(1, r->version);
	/* Nothing of the module is reached: the version is refused first. */
	memset(&m, 0, sizeof(m));
	m.dev_fd = -1;
	EXPECT_EQ(AVF_E_VERSION, avf_import_from_descriptor(&m, "old", r, &vm));
	EXPECT_EQ(NULL, vm);
	EXPECT_NE(NULL, strstr(avf_manager_last_error(&m), "version 1"));
	/* Nor can it be passed on. */
	EXPECT_EQ(AVF_E_INVALID, avf_descriptor_send(sv[0], r));
	avf_descriptor_free(r);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
}

TEST_HARNESS_MAIN
