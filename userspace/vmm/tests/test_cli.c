// SPDX-License-Identifier: GPL-2.0
/*
 * avf-vmm's command line: every refused argument is refused with
 * EXIT_VMM_USAGE and a message naming it; bound mode takes fds only.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/avf.h>

#include "kselftest_harness.h"

#include "cli.h"
#include "hostvirt.h"
#include "limits.h"

#define MAXARGS 40

/* Parse @args (NULL-terminated, without argv[0]); stderr goes to @err. */
static int parse(struct vmm_opts *o, const char *const *args, char *err, size_t cap)
{
	char *argv[MAXARGS];
	int argc = 0, saved, pipefd[2], ret;
	ssize_t n;

	argv[argc++] = "avf-vmm";
	while (*args && argc < MAXARGS - 1)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	fflush(stderr);
	if (pipe(pipefd))
		return -1;
	saved = dup(2);
	dup2(pipefd[1], 2);
	close(pipefd[1]);
	ret = cli_parse(argc, argv, o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = read(pipefd[0], err, cap - 1);
	err[n > 0 ? n : 0] = 0;
	close(pipefd[0]);
	return ret;
}

#define BOUND "--vm-fd", "10", "--kernel-fd", "11", "--initrd-fd", "12", "--package-fd", "13", \
	"--instance-fd", "14", "--payload", "x.so"

/* Each case: arguments, and a piece of the message that names the culprit. */
struct refusal {
	const char *args[24];
	const char *names;
};

static const struct refusal refusals[] = {
	{ { BOUND, "--kernel", "/k", NULL }, "--kernel '/k': paths are accepted only with --standalone" },
	{ { BOUND, "--initrd", "/i", NULL }, "--initrd '/i'" },
	{ { BOUND, "--package", "/p", NULL }, "--package '/p'" },
	{ { BOUND, "--instance", "/s", NULL }, "--instance '/s'" },
	{ { BOUND, "--storage", "/d", NULL }, "--storage '/d'" },
	{ { BOUND, "--console", "-", NULL }, "--console '-'" },
	{ { BOUND, "--log", "/l", NULL }, "--log '/l'" },
	{ { BOUND, "--vsock-uds", "/u", NULL }, "--vsock-uds '/u': only with --standalone" },
	{ { BOUND, "--profile", "/p", NULL }, "--profile '/p': paths are accepted only with --standalone" },
	{ { BOUND, "--profile-fd", "18", NULL }, "--profile-fd: only with --standalone" },
	{ { "--standalone", "--kernel", "/k", "--initrd", "/i", "--package", "/p",
	    "--profile", "prof.txt", "--payload", "x.so", NULL },
	  "--profile 'prof.txt': must be an absolute path" },
	{ { "--standalone", "--kernel", "/k", "--initrd", "/i", "--package", "/p",
	    "--profile", "/q", "--profile-fd", "20", "--payload", "x.so", NULL },
	  "--profile '/q': not together with --profile-fd" },
	{ { BOUND, "--name", "vm", NULL }, "--name: unknown option" },
	{ { BOUND, "--bogus", NULL }, "--bogus: unknown option" },
	{ { BOUND, "extra", NULL }, "argument 'extra': unexpected" },
	{ { BOUND, "--mem", NULL }, "--mem: needs an argument" },
	{ { BOUND, "--mem", "0", NULL }, "--mem '0'" },
	{ { BOUND, "--mem", "99999", NULL }, "--mem '99999'" },
	{ { BOUND, "--mem", "-1", NULL }, "--mem '-1'" },
	{ { BOUND, "--mem", "12x", NULL }, "--mem '12x'" },
	{ { BOUND, "--cpus", "0", NULL }, "--cpus '0'" },
	{ { BOUND, "--debug", "some", NULL }, "--debug 'some'" },
	{ { BOUND, "--hangup-timeout", "86401", NULL }, "--hangup-timeout '86401'" },
	{ { BOUND, "--cmdline", "a\tb", NULL }, "--cmdline '...': printable ASCII only" },
	{ { BOUND, "--storage-fd", "x", NULL }, "--storage-fd 'x': not a file descriptor number" },
	{ { BOUND, "--storage-fd", "+5", NULL }, "--storage-fd '+5'" },
	{ { BOUND, "--storage-fd", "2147483648", NULL }, "--storage-fd '2147483648'" },
	{ { BOUND, "--console-fd", "1", NULL }, "--console-fd '1': stdin, stdout and stderr" },
	{ { BOUND, "--log-fd", "2", NULL }, "--log-fd '2': stdin, stdout and stderr" },
	{ { BOUND, "--storage-fd", "0", NULL }, "--storage-fd '0': stdin, stdout and stderr" },
	{ { BOUND, "--storage-fd", "11", NULL }, "--storage-fd '11': the same descriptor is given for another option" },
	{ { BOUND, "--log-fd", "10", NULL }, "--log-fd '10': the same descriptor" },
	{ { BOUND, "--kernel-fd", "20", NULL }, "kernel-fd: given twice" },
	{ { BOUND, "--payload", "y.so", NULL }, "payload: given twice" },
	{ { BOUND, "--verbose", "--verbose", NULL }, "verbose: given twice" },
	{ { "--vm-fd", "10", "--kernel-fd", "11", "--initrd-fd", "12", "--package-fd", "13",
	    "--payload", "x.so", NULL }, "--instance-fd: required" },
	{ { "--kernel-fd", "11", "--initrd-fd", "12", "--package-fd", "13", "--instance-fd", "14",
	    "--payload", "x.so", NULL }, "--vm-fd: required" },
	{ { "--vm-fd", "10", "--initrd-fd", "12", "--package-fd", "13", "--instance-fd", "14",
	    "--payload", "x.so", NULL }, "--kernel-fd: required" },
	{ { "--vm-fd", "10", "--kernel-fd", "11", "--package-fd", "13", "--instance-fd", "14",
	    "--payload", "x.so", NULL }, "--initrd-fd: required" },
	{ { "--vm-fd", "10", "--kernel-fd", "11", "--initrd-fd", "12", "--instance-fd", "14",
	    "--payload", "x.so", NULL }, "--package-fd: required" },
	{ { "--vm-fd", "10", "--kernel-fd", "11", "--initrd-fd", "12", "--package-fd", "13",
	    "--instance-fd", "14", NULL }, "--payload: required" },
	{ { BOUND, "--payload", "", NULL }, "given twice" },
	{ { "--vm-fd", "10", "--kernel-fd", "11", "--initrd-fd", "12", "--package-fd", "13",
	    "--instance-fd", "14", "--payload", "", NULL }, "--payload '': must be 1..255 bytes" },
	{ { "--vm-fd", "10", "--kernel-fd", "11", "--initrd-fd", "12", "--package-fd", "13",
	    "--instance-fd", "14", "--payload", "../x.so", NULL }, "--payload '../x.so'" },
	{ { "--vm-fd", "10", "--kernel-fd", "11", "--initrd-fd", "12", "--package-fd", "13",
	    "--instance-fd", "14", "--payload", "x\x01.so", NULL }, "printable ASCII without '/'" },
	{ { "--standalone", "--vm-fd", "10", "--kernel", "/k", "--initrd", "/i", "--package",
	    "/p", "--payload", "x.so", NULL }, "--vm-fd: not with --standalone" },
	{ { "--standalone", "--kernel", "/k", "--kernel-fd", "11", "--initrd", "/i",
	    "--package", "/p", "--payload", "x.so", NULL }, "exactly one of --kernel and --kernel-fd" },
	{ { "--standalone", "--initrd", "/i", "--package", "/p", "--payload", "x.so", NULL },
	  "exactly one of --kernel and --kernel-fd" },
	{ { "--standalone", "--kernel", "/k", "--initrd", "/i", "--package", "/p",
	    "--storage", "/s", "--storage-fd", "20", "--payload", "x.so", NULL },
	  "--storage '/s': not together with --storage-fd" },
	{ { "--standalone", "--kernel", "", "--initrd", "/i", "--package", "/p",
	    "--payload", "x.so", NULL }, "--kernel '': empty path" },
	{ { "--standalone", "--kernel", "/k", "--initrd", "build/i", "--package", "/p",
	    "--payload", "x.so", NULL }, "--initrd 'build/i': must be an absolute path" },
};

TEST(every_refusal_names_its_argument)
{
	unsigned int i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		struct vmm_opts o;
		char err[1024];
		int ret = parse(&o, refusals[i].args, err, sizeof(err));

		if (ret != EXIT_VMM_USAGE || !strstr(err, refusals[i].names))
			TH_LOG("case %u: ret %d, wanted '%s' in: %s", i, ret, refusals[i].names,
			       err);
		EXPECT_EQ(EXIT_VMM_USAGE, ret);
		EXPECT_NE(NULL, strstr(err, refusals[i].names));
	}
}

TEST(cmdline_too_long)
{
	static char longline[AVF_CMDLINE_MAX + 1];
	const char *args[] = { BOUND, "--cmdline", longline, NULL };
	struct vmm_opts o;
	char err[512];

	memset(longline, 'a', AVF_CMDLINE_MAX);
	EXPECT_EQ(EXIT_VMM_USAGE, parse(&o, args, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "--cmdline"));
	longline[AVF_CMDLINE_MAX - 1] = 0;	/* 1023 bytes: accepted */
	EXPECT_EQ(0, parse(&o, args, err, sizeof(err)));
}

TEST(bound_mode_fds)
{
	const char *args[] = { BOUND, "--storage-fd", "15", "--console-fd", "16", "--log-fd", "17",
			       "--mem", "512", "--cpus", "2", "--debug", "full", "--cmdline",
			       "foo=bar", "--new-instance", "--hangup-timeout", "0", NULL };
	struct vmm_opts o;
	char err[512];
	int i;

	ASSERT_EQ(0, parse(&o, args, err, sizeof(err)));
	for (i = 0; i < FD_PROFILE; i++) {
		EXPECT_EQ(10 + i, o.fd[i]);
		EXPECT_EQ(NULL, o.path[i]);
	}
	EXPECT_EQ(-1, o.fd[FD_PROFILE]);	/* --standalone only */
	EXPECT_FALSE(o.standalone);
	EXPECT_EQ(512, o.mem_mib);
	EXPECT_EQ(2, o.cpus);
	EXPECT_TRUE(o.debug_full);
	EXPECT_TRUE(o.new_instance);
	EXPECT_EQ(0, o.hangup_s);
	EXPECT_TRUE(o.hangup_given);
	EXPECT_STREQ("foo=bar", o.cmdline);
	EXPECT_STREQ("x.so", o.payload);
}

TEST(standalone_paths_and_fds)
{
	const char *args[] = { "--standalone", "--kernel", "/k", "--initrd-fd", "12",
			       "--package", "/p", "--payload", "x.so", "--console", "-",
			       "--vsock-uds", "/u", "--profile", "-", NULL };
	struct vmm_opts o;
	char err[512];

	ASSERT_EQ(0, parse(&o, args, err, sizeof(err)));
	EXPECT_TRUE(o.standalone);
	EXPECT_STREQ("/k", o.path[FD_KERNEL]);
	EXPECT_EQ(-1, o.fd[FD_KERNEL]);
	EXPECT_EQ(12, o.fd[FD_INITRD]);
	EXPECT_STREQ("-", o.path[FD_CONSOLE]);
	EXPECT_STREQ("/u", o.vsock_uds);
	EXPECT_STREQ("-", o.path[FD_PROFILE]);
	EXPECT_FALSE(o.hangup_given);	/* the VMM picks the scaled default */
}

TEST(hangup_default_scaled_by_host_virtualization)
{
	EXPECT_EQ(HOST_VIRT_NONE, host_virt_classify(false, "TCGTCGTCGTCG"));
	EXPECT_EQ(HOST_VIRT_EMULATED, host_virt_classify(true, "TCGTCGTCGTCG"));
	EXPECT_EQ(HOST_VIRT_NESTED, host_virt_classify(true, "KVMKVMKVM\0\0\0"));
	EXPECT_EQ(HOST_VIRT_NESTED, host_virt_classify(true, "Microsoft Hv"));
	EXPECT_EQ(HOST_VIRT_NESTED, host_virt_classify(true, "\0\0\0\0\0\0\0\0\0\0\0\0"));
	EXPECT_EQ(30, hangup_default_s(HOST_VIRT_NONE));
	EXPECT_EQ(120, hangup_default_s(HOST_VIRT_NESTED));
	EXPECT_EQ(300, hangup_default_s(HOST_VIRT_EMULATED));
	EXPECT_STREQ("none", host_virt_name(HOST_VIRT_NONE));
	EXPECT_STREQ("nested", host_virt_name(HOST_VIRT_NESTED));
	EXPECT_STREQ("emulated", host_virt_name(HOST_VIRT_EMULATED));
}

/* The TSC-deadline timer bit: wherever KVM emulates it, but under TCG. */
TEST(tsc_deadline_follows_host_virtualization)
{
	static const struct {
		enum host_virt v;
		bool kvm_has, want;
	} t[] = {
		{ HOST_VIRT_NONE, true, true },
		{ HOST_VIRT_NESTED, true, true },
		{ HOST_VIRT_EMULATED, true, false },
		{ HOST_VIRT_NONE, false, false },
		{ HOST_VIRT_NESTED, false, false },
		{ HOST_VIRT_EMULATED, false, false },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		EXPECT_EQ(t[i].want, tsc_deadline_wanted(t[i].v, t[i].kvm_has))
			TH_LOG("%s, KVM %s", host_virt_name(t[i].v), t[i].kvm_has ? "has it" : "has not");
}

TEST(help_and_version)
{
	const char *help[] = { "--help", NULL }, *version[] = { "--version", NULL };
	struct vmm_opts o;
	char err[64];

	EXPECT_EQ(1, parse(&o, help, err, sizeof(err)));
	EXPECT_EQ(1, parse(&o, version, err, sizeof(err)));
}

TEST_HARNESS_MAIN
