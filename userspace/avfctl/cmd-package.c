// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl package: build an app package from payload libraries by running
 * avf-package ($AVF_PACKAGE, else next to avfctl, else in the configured
 * BINDIR (AVF_BINDIR, compiled in), else on $PATH).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "avfctl.h"

static const char *find_tool(char *buf, size_t len)
{
	const char *env = getenv("AVF_PACKAGE");
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", buf, len - 1);
	if (n > 0) {
		buf[n] = '\0';
		snprintf(buf + strlen(dirname(buf)), len - strlen(buf), "/avf-package");
		if (access(buf, X_OK) == 0)
			return buf;
	}
#ifdef AVF_BINDIR
	if (access(AVF_BINDIR "/avf-package", X_OK) == 0)
		return AVF_BINDIR "/avf-package";
#endif
	return "avf-package";
}

int cmd_package(struct avfctl *ctl, struct opts *o)
{
	char path[PATH_MAX];
	const char *tool = find_tool(path, sizeof(path));
	char **argv;
	pid_t pid;
	int st;

	if (!o->output) {
		avfctl_err(ctl, "package needs -o OUT.zip");
		return EX_USAGE;
	}
	argv = calloc((size_t)o->nargs + 4, sizeof(*argv));
	if (!argv)
		return EX_OSERR;
	argv[0] = (char *)tool;
	argv[1] = "-o";
	argv[2] = (char *)o->output;
	for (int i = 0; i < o->nargs; i++)
		argv[3 + i] = o->args[i];
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execvp(tool, argv);
		fprintf(stderr, "%s: cannot run %s: %s (set AVF_PACKAGE)\n", ctl->prog, tool,
			strerror(errno));
		_exit(EX_UNAVAILABLE);
	}
	free(argv);
	if (pid < 0 || waitpid(pid, &st, 0) < 0) {
		avfctl_err(ctl, "package: cannot run %s: %s", tool, strerror(errno));
		return EX_OSERR;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		if (WIFEXITED(st) && WEXITSTATUS(st) == EX_UNAVAILABLE)
			return EX_UNAVAILABLE;
		avfctl_err(ctl, "package: %s failed", tool);
		return EX_DATAERR;
	}
	if (ctl->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "package", json_object_new_string(o->output));
		avfctl_json_print(j);
	} else {
		printf("wrote %s\n", o->output);
	}
	return EX_OK;
}
