// SPDX-License-Identifier: GPL-2.0
/*
 * avf_bench: boot, stop/delete, idle memory and density through libavf, in
 * the test host (tools/bench-in-testhost.sh). One "name value unit" line
 * per figure on stdout; raw per-trial data for the plots in OUTDIR.
 *
 *   avf_bench boot    OUTDIR PACKAGE PAYLOAD TRIALS [PEER]
 *   avf_bench stop    OUTDIR PACKAGE PAYLOAD TRIALS   (a never-ready payload)
 *   avf_bench idle    OUTDIR PACKAGE PAYLOAD          (a never-ready payload)
 *   avf_bench density OUTDIR PACKAGE PAYLOAD MAX      (a never-ready payload)
 *   avf_bench vsock   PREFIX PACKAGE PAYLOAD MIB N     (the vsock-stream payload)
 *   avf_bench vsock-cid PREFIX CID MIB N               (the same payload in another VMM)
 *
 * vsock: MIB MiB host->guest and guest->host on one connection each, then
 * N 1-byte round trips, against the vsock-stream test payload
 * (selftests/api/payloads/vsock_stream.c): through libavf's
 * connectVsock (our VM), or through AF_VSOCK to CID (QEMU with
 * vhost-vsock, the peer); the same client code for both. Figures are
 * PREFIX_h2g_mbps, PREFIX_g2h_mbps, PREFIX_rtt_us_median, _p99.
 *
 * boot: PEER, a shell command, runs after every trial (the QEMU boots of
 * tools/bench-in-testhost.sh): the two sides alternate, so a drift of the
 * emulated machine's speed over the run weighs on both alike.
 *
 * Clocks: every time here is CLOCK_MONOTONIC, the clock of avf-vmm's
 * "timestamps" line in vmm.log (userspace/vmm/log.h) and of the module's
 * struct avf_event.timestamp_ns, so the breakdown subtracts times taken
 * on both sides of the exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include <avf/avf.h>

/* the vsock-stream payload's port and whole-buffer I/O: its contract's one home */
#include "payloads/vsock_stream_proto.h"

#define WAIT_S		120
#define VM_MEM_MIB	256
#define DENSITY_MIB	64

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What the callbacks saw of one run; guarded by lock. */
struct run_obs {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t started, ready, stopped;
	int reason;
};

static void obs_set(struct run_obs *o, uint64_t *field)
{
	uint64_t t = now_ns();

	pthread_mutex_lock(&o->lock);
	if (!*field)
		*field = t;
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

static void cb_started(struct avf_vm *vm, void *ctx)
{
	(void)vm;
	obs_set(ctx, &((struct run_obs *)ctx)->started);
}

static void cb_ready(struct avf_vm *vm, void *ctx)
{
	(void)vm;
	obs_set(ctx, &((struct run_obs *)ctx)->ready);
}

static void cb_stopped(struct avf_vm *vm, int reason, void *ctx)
{
	struct run_obs *o = ctx;

	(void)vm;
	o->reason = reason;
	obs_set(o, &o->stopped);
}

static const struct avf_vm_callbacks callbacks = {
	.on_payload_started = cb_started,
	.on_payload_ready = cb_ready,
	.on_stopped = cb_stopped,
};

static void obs_init(struct run_obs *o)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
}

static void obs_reset(struct run_obs *o)
{
	pthread_mutex_lock(&o->lock);
	o->started = o->ready = o->stopped = 0;
	o->reason = 0;
	pthread_mutex_unlock(&o->lock);
}

/* Waits until *field is set (or the run stopped); returns it, 0 on timeout/stop. */
static uint64_t obs_wait(struct run_obs *o, uint64_t *field, int timeout_s)
{
	struct timespec dl;
	uint64_t v;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_s;
	pthread_mutex_lock(&o->lock);
	while (!*field && !(field != &o->stopped && o->stopped))
		if (pthread_cond_timedwait(&o->cond, &o->lock, &dl) == ETIMEDOUT)
			break;
	v = *field;
	pthread_mutex_unlock(&o->lock);
	return v;
}

static void die(const char *what, int err, const char *msg)
{
	fprintf(stderr, "avf_bench: %s: %s%s%s\n", what, avf_strerror(err), msg ? ": " : "",
		msg ? msg : "");
	exit(1);
}

static struct avf_manager *mgr;

static struct avf_config *make_config(const char *pkg, const char *payload, uint64_t mib)
{
	struct avf_config_builder *b;
	struct avf_config *c;
	int ret;

	ret = avf_config_builder_new(mgr, &b);
	if (ret)
		die("config", ret, NULL);
	avf_config_builder_set_apk_path(b, pkg);
	avf_config_builder_set_payload_binary_name(b, payload);
	avf_config_builder_set_protected_vm(b, false);
	avf_config_builder_set_debug_level(b, AVF_DEBUG_LEVEL_NONE);
	avf_config_builder_set_memory_bytes(b, mib << 20);
	ret = avf_config_builder_build(b, &c);
	if (ret)
		die("config build", ret, avf_config_builder_last_error(b));
	avf_config_builder_free(b);
	return c;
}

static struct avf_vm *make_vm(const char *name, const struct avf_config *c, struct run_obs *o)
{
	struct avf_vm *vm;
	int ret;

	ret = avf_vm_create(mgr, name, c, &vm);
	if (ret)
		die("create", ret, avf_manager_last_error(mgr));
	if (o) {
		ret = avf_vm_set_callback(vm, &callbacks, o, AVF_EXECUTOR_THREAD);
		if (ret)
			die("set_callback", ret, avf_vm_last_error(vm));
	}
	return vm;
}

/* The last "timestamps" line avf-vmm wrote to the instance's vmm.log. */
enum { TS_EXEC, TS_BOUND, TS_LOAD0, TS_LOAD1, TS_START0, TS_START1, TS_KVM_RUN, TS_BOOT,
       TS_STARTED, TS_READY, TS_N };
static const char *const ts_names[TS_N] = {
	"exec", "bound", "load0", "load1", "start0", "start1", "kvm_run", "boot", "started",
	"ready",
};

/*
 * @guest_ms: what the guest says its kernel took ("guest_says_boot_ms=" of
 * the boot counts line: CLOCK_BOOTTIME at init), or -1.
 */
static int read_stamps(struct avf_vm *vm, uint64_t ts[TS_N], double *guest_ms)
{
	char path[4096], line[1024], last[1024] = "";
	const char *g;
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/vmm.log", avf_vm_dir(vm));
	f = fopen(path, "r");
	if (!f)
		return -1;
	*guest_ms = -1;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "avf-vmm: timestamps "))
			strcpy(last, line);
		g = strstr(line, " guest_says_boot_ms=");
		if (strstr(line, "avf-vmm: boot counts: ") && g)
			*guest_ms = strtod(g + strlen(" guest_says_boot_ms="), NULL);
	}
	fclose(f);
	memset(ts, 0, sizeof(uint64_t) * TS_N);
	for (int i = 0; i < TS_N; i++) {
		char key[32], *p;

		snprintf(key, sizeof(key), " %s=", ts_names[i]);
		p = strstr(last, key);
		if (p) {
			ts[i] = strtoull(p + strlen(key), NULL, 10);
			n++;
		}
	}
	return n == TS_N ? 0 : -1;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of @n values (sorted in place). */
static double pct(double *v, int n, double p)
{
	int k;

	if (n <= 0)
		return 0.0 / 0.0;
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	k = (int)(p / 100.0 * n + 0.999999) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k];
}

static void fig(const char *name, double v, const char *unit)
{
	printf("%s %.3f %s\n", name, v, unit);
}

static void fig_dist(const char *name, double *v, int n, const char *unit)
{
	char b[96];

	snprintf(b, sizeof(b), "%s_median", name);
	fig(b, pct(v, n, 50), unit);
	snprintf(b, sizeof(b), "%s_p90", name);
	fig(b, pct(v, n, 90), unit);
}

static FILE *out_file(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	return f;
}

#define MS(a, b) (((double)(int64_t)((a) - (b))) / 1e6)

/* Phases of the boot breakdown, in order (the stacked bars). */
enum { PH_SPAWN, PH_VMM, PH_MEASURE, PH_DERIVE, PH_KERNEL, PH_RUNTIME, PH_PAYLOAD,
       PH_DELIVER, PH_N };
static const char *const ph_names[PH_N] = {
	"libavf_spawn", "vmm_setup", "measure", "derive", "kernel_to_init", "guest_runtime",
	"payload_to_ready", "event_delivery",
};

/* One round of the peer's boots (a shell command); its failure is reported, not fatal. */
static void run_peer(const char *peer, int trial)
{
	int st;

	if (!peer)
		return;
	fflush(stdout);
	st = system(peer);
	if (st != 0)
		fprintf(stderr, "avf_bench: trial %d: peer command: status %d\n", trial, st);
}

static int cmd_boot(const char *dir, const char *pkg, const char *payload, int n,
		    const char *peer)
{
	struct avf_config *c = make_config(pkg, payload, VM_MEM_MIB);
	double ph[PH_N][n], total[n], started[n], exec_init[n], kvm_init[n], run_init[n];
	double guest[n], own[n];
	int nguest = 0;
	struct run_obs o;
	struct avf_vm *vm;
	FILE *raw = out_file(dir, "boot.dat");
	int ok = 0, ret;

	obs_init(&o);
	vm = make_vm("bench-boot", c, &o);
	fprintf(raw, "# trial total_ms");
	for (int p = 0; p < PH_N; p++)
		fprintf(raw, " %s", ph_names[p]);
	fprintf(raw, "\n");
	for (int i = 0; i < n; i++) {
		uint64_t t0, ts[TS_N];
		double g;

		obs_reset(&o);
		t0 = now_ns();
		ret = avf_vm_run(vm);
		if (ret)
			die("run", ret, avf_vm_last_error(vm));
		if (!obs_wait(&o, &o.ready, WAIT_S))
			die("run: no onPayloadReady", AVF_E_TIMEOUT, NULL);
		/* hello returns after notifying: the run ends by itself */
		if (!obs_wait(&o, &o.stopped, WAIT_S))
			avf_vm_stop(vm);
		avf_vm_wait_stopped(vm, WAIT_S * 1000);
		/* vmm.log is per run; avf-vmm writes the line as it exits, after STOPPED */
		for (int w = 0; w < 100 && read_stamps(vm, ts, &g); w++)
			usleep(100 * 1000);
		run_peer(peer, i);
		if (read_stamps(vm, ts, &g)) {
			fprintf(stderr, "avf_bench: trial %d: no timestamps line in vmm.log\n", i);
			continue;
		}
		ph[PH_SPAWN][ok] = MS(ts[TS_EXEC], t0);
		ph[PH_MEASURE][ok] = MS(ts[TS_LOAD1], ts[TS_LOAD0]);
		ph[PH_DERIVE][ok] = MS(ts[TS_START1], ts[TS_START0]);
		ph[PH_VMM][ok] = MS(ts[TS_KVM_RUN], ts[TS_EXEC]) - ph[PH_MEASURE][ok] -
				 ph[PH_DERIVE][ok];
		ph[PH_KERNEL][ok] = MS(ts[TS_BOOT], ts[TS_KVM_RUN]);
		ph[PH_RUNTIME][ok] = MS(ts[TS_STARTED], ts[TS_BOOT]);
		ph[PH_PAYLOAD][ok] = MS(ts[TS_READY], ts[TS_STARTED]);
		ph[PH_DELIVER][ok] = MS(o.ready, ts[TS_READY]);
		total[ok] = MS(o.ready, t0);
		started[ok] = MS(o.started, t0);
		exec_init[ok] = MS(ts[TS_BOOT], ts[TS_EXEC]);
		run_init[ok] = MS(ts[TS_BOOT], t0);
		kvm_init[ok] = MS(ts[TS_BOOT], ts[TS_KVM_RUN]);
		if (g >= 0) {	/* the rest of run() -> init is the host's own */
			guest[nguest] = g;
			own[nguest++] = run_init[ok] - g;
		}
		fprintf(raw, "%d %.3f", i, total[ok]);
		for (int p = 0; p < PH_N; p++)
			fprintf(raw, " %.3f", ph[p][ok]);
		fprintf(raw, "\n");
		ok++;
	}
	fclose(raw);
	if (!ok)
		return 1;
	fig("boot_trials", ok, "n");
	fig_dist("boot_to_ready", total, ok, "ms");
	fig_dist("boot_to_started", started, ok, "ms");
	fig_dist("boot_run_to_init", run_init, ok, "ms");
	fig_dist("exec_to_init", exec_init, ok, "ms");
	fig_dist("kvm_run_to_init", kvm_init, ok, "ms");
	if (nguest) {
		fig_dist("guest_says_kernel", guest, nguest, "ms");
		fig_dist("boot_run_to_init_not_guest", own, nguest, "ms");
	}
	for (int p = 0; p < PH_N; p++) {
		char b[64];

		snprintf(b, sizeof(b), "boot_%s", ph_names[p]);
		fig_dist(b, ph[p], ok, "ms");
	}
	avf_vm_close(vm);
	avf_vm_delete(mgr, "bench-boot");
	avf_config_free(c);
	return 0;
}

static int cmd_stop(const char *dir, const char *pkg, const char *payload, int n)
{
	struct avf_config *c = make_config(pkg, payload, VM_MEM_MIB);
	double stop[n], stop_ret[n], del[n];
	FILE *raw = out_file(dir, "stop.dat");
	struct run_obs o;
	int ok = 0, ret;

	obs_init(&o);
	fprintf(raw, "# trial stop_to_onstopped_ms stop_return_ms delete_ms\n");
	for (int i = 0; i < n; i++) {
		struct avf_vm *vm;
		uint64_t t0, t1, t2, t3;

		obs_reset(&o);
		vm = make_vm("bench-stop", c, &o);
		ret = avf_vm_run(vm);
		if (ret)
			die("run", ret, avf_vm_last_error(vm));
		if (!obs_wait(&o, &o.started, WAIT_S))
			die("run: no onPayloadStarted", AVF_E_TIMEOUT, NULL);
		usleep(200 * 1000);
		t0 = now_ns();
		ret = avf_vm_stop(vm);
		t1 = now_ns();
		if (ret)
			die("stop", ret, avf_vm_last_error(vm));
		if (!obs_wait(&o, &o.stopped, WAIT_S))
			die("stop: no onStopped", AVF_E_TIMEOUT, NULL);
		avf_vm_close(vm);
		t2 = now_ns();
		ret = avf_vm_delete(mgr, "bench-stop");
		t3 = now_ns();
		if (ret)
			die("delete", ret, avf_manager_last_error(mgr));
		stop[ok] = MS(o.stopped, t0);
		stop_ret[ok] = MS(t1, t0);
		del[ok] = MS(t3, t2);
		fprintf(raw, "%d %.3f %.3f %.3f\n", i, stop[ok], stop_ret[ok], del[ok]);
		ok++;
	}
	fclose(raw);
	fig_dist("stop_to_onstopped", stop, ok, "ms");
	fig_dist("stop_return", stop_ret, ok, "ms");
	fig_dist("delete", del, ok, "ms");
	avf_config_free(c);
	return 0;
}

/*
 * kB of Rss/Pss/private (Private_Clean + Private_Dirty: the pages only this
 * process maps, what one more VM costs) in /proc/PID/smaps, split into the
 * guest RAM mapping and the rest.
 */
struct smaps_sum {
	long rss, pss, priv, guest_rss, guest_pss;
};

static int read_smaps(pid_t pid, struct smaps_sum *s)
{
	char path[64], line[512];
	bool guest = false;
	FILE *f;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		long kb;

		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, ' ')) {
			guest = strstr(line, "avf-guest-ram") != NULL;
			continue;
		}
		if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			*(guest ? &s->guest_rss : &s->rss) += kb;
		else if (sscanf(line, "Pss: %ld kB", &kb) == 1)
			*(guest ? &s->guest_pss : &s->pss) += kb;
		else if (!guest && (sscanf(line, "Private_Clean: %ld kB", &kb) == 1 ||
				    sscanf(line, "Private_Dirty: %ld kB", &kb) == 1))
			s->priv += kb;
	}
	fclose(f);
	return 0;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Unreclaimable kernel memory: slab the module and KVM allocate, page tables, stacks. */
static long kernel_kb(void)
{
	return meminfo_kb("SUnreclaim") + meminfo_kb("PageTables") + meminfo_kb("KernelStack") +
	       meminfo_kb("SecPageTables");
}

static int settle(void)
{
	sync();
	return usleep(500 * 1000);
}

static int cmd_idle(const char *dir, const char *pkg, const char *payload)
{
	struct avf_config *c = make_config(pkg, payload, VM_MEM_MIB);
	struct avf_vm *vms[32];
	double create[32];
	struct avf_vm_state st;
	struct smaps_sum s;
	struct run_obs o;
	long k0, k1, k2;
	int ret;

	(void)dir;
	/* the module's memory per instance: 32 instances open, none running */
	settle();
	k0 = meminfo_kb("SUnreclaim");
	for (int i = 0; i < 32; i++) {
		char name[32];

		uint64_t t0;

		snprintf(name, sizeof(name), "bench-inst-%d", i);
		t0 = now_ns();
		vms[i] = make_vm(name, c, NULL);
		create[i] = MS(now_ns(), t0);
	}
	settle();
	k1 = meminfo_kb("SUnreclaim");
	fig("module_instance_kib", (double)(k1 - k0) / 32.0, "KiB");
	/* create(): instance files, AVF_INSTANCE_SEAL (hashes the three images) */
	fig_dist("vm_create", create, 32, "ms");
	for (int i = 0; i < 32; i++) {
		char name[32];

		snprintf(name, sizeof(name), "bench-inst-%d", i);
		avf_vm_close(vms[i]);
		avf_vm_delete(mgr, name);
	}

	obs_init(&o);
	vms[0] = make_vm("bench-idle", c, &o);
	settle();
	k1 = kernel_kb();
	ret = avf_vm_run(vms[0]);
	if (ret)
		die("run", ret, avf_vm_last_error(vms[0]));
	if (!obs_wait(&o, &o.started, WAIT_S))
		die("run: no onPayloadStarted", AVF_E_TIMEOUT, NULL);
	sleep(3);
	k2 = kernel_kb();
	if (avf_vm_info(vms[0], &st) || !st.vmm_pid || read_smaps((pid_t)st.vmm_pid, &s))
		die("idle: no avf-vmm to measure", AVF_E_STATE, NULL);
	fig("vmm_overhead_rss_mib", s.rss / 1024.0, "MiB");
	fig("vmm_overhead_pss_mib", s.pss / 1024.0, "MiB");
	fig("vmm_overhead_private_mib", s.priv / 1024.0, "MiB");
	fig("vmm_guest_ram_rss_mib", s.guest_rss / 1024.0, "MiB");
	fig("kernel_per_running_vm_kib", (double)(k2 - k1), "KiB");
	printf("#vmm_pid %u\n", st.vmm_pid);
	avf_vm_stop(vms[0]);
	avf_vm_close(vms[0]);
	avf_vm_delete(mgr, "bench-idle");
	avf_config_free(c);
	return 0;
}

static int cmd_density(const char *dir, const char *pkg, const char *payload, int max)
{
	struct avf_config *c = make_config(pkg, payload, DENSITY_MIB);
	struct avf_vm *vms[max];
	struct run_obs obs[max];
	FILE *raw = out_file(dir, "density.dat");
	long k0, k1, avail0, avail1;
	uint64_t t0, last = 0;
	int n = 0, up = 0, ret;
	char name[32];

	settle();
	k0 = kernel_kb();
	avail0 = meminfo_kb("MemAvailable");
	t0 = now_ns();
	/* every run() first (each returns at the VMM's bind), then every start */
	for (n = 0; n < max; n++) {
		obs_init(&obs[n]);
		snprintf(name, sizeof(name), "bench-dens-%d", n);
		vms[n] = make_vm(name, c, &obs[n]);
		ret = avf_vm_run(vms[n]);
		if (ret) {
			fprintf(stderr, "avf_bench: density: run %d: %s: %s\n", n + 1,
				avf_strerror(ret), avf_vm_last_error(vms[n]));
			avf_vm_close(vms[n]);
			avf_vm_delete(mgr, name);
			break;
		}
	}
	for (int i = 0; i < n; i++) {
		uint64_t t = obs_wait(&obs[i], &obs[i].started, WAIT_S * 4);

		if (t && !obs[i].stopped)
			up++;
		else
			fprintf(stderr, "avf_bench: density: VM %d did not start (reason %d)\n",
				i + 1, obs[i].reason);
	}
	/* the curve: VMs whose payload had started, against time since the first run() */
	{
		double ts[max];
		int m = 0;

		for (int i = 0; i < n; i++)
			if (obs[i].started && !obs[i].stopped)
				ts[m++] = MS(obs[i].started, t0) / 1000.0;
		qsort(ts, (size_t)m, sizeof(*ts), cmp_d);
		fprintf(raw, "# seconds_since_first_run vms_started\n0 0\n");
		for (int i = 0; i < m; i++)
			fprintf(raw, "%.3f %d\n", ts[i], i + 1);
		if (m)
			last = t0 + (uint64_t)(ts[m - 1] * 1e9);
	}
	fclose(raw);
	sleep(2);
	k1 = kernel_kb();
	avail1 = meminfo_kb("MemAvailable");
	fig("density_cap", max, "vms");
	fig("density_vms", up, "vms");
	fig("density_start_rate", last > t0 ? up / (MS(last, t0) / 1000.0) : 0.0 / 0.0,
	    "vms_per_s");
	fig("density_memavail_per_vm_mib", up ? (avail0 - avail1) / 1024.0 / up : 0.0 / 0.0,
	    "MiB");
	fig("density_kernel_per_vm_kib", up ? (double)(k1 - k0) / up : 0.0 / 0.0, "KiB");
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "bench-dens-%d", i);
		avf_vm_close(vms[i]);
		avf_vm_delete(mgr, name);
	}
	avf_config_free(c);
	return 0;
}

/* ---- vsock: bulk both ways and round trips (vsock-stream payload) ---- */

#define VSOCK_CHUNK		(64 * 1024)

typedef int (*vsock_dial_fn)(void *ctx);

/* A connection with the payload's command byte sent; -1 on failure. */
static int vsock_open(vsock_dial_fn dial, void *ctx, char cmd)
{
	int fd = dial(ctx);

	if (fd >= 0 && write_all(fd, &cmd, 1)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int vsock_measure(const char *prefix, vsock_dial_fn dial, void *ctx, uint64_t mib, int n)
{
	static uint8_t buf[VSOCK_CHUNK];
	uint64_t bytes = mib << 20, reply[2], t0, got = 0;
	double *rtt = calloc((size_t)n, sizeof(*rtt));
	char name[96], ch = 'x';
	ssize_t r;
	int fd;

	if (!rtt)
		return 1;
	/* host -> guest: 'S', the sink answers count and hash after our EOF */
	fd = vsock_open(dial, ctx, 'S');
	if (fd < 0)
		return fprintf(stderr, "avf_bench: vsock: no connection\n"), 1;
	t0 = now_ns();
	for (uint64_t off = 0; off < bytes; off += VSOCK_CHUNK)
		if (write_all(fd, buf, VSOCK_CHUNK))
			return fprintf(stderr, "avf_bench: vsock: h2g write failed\n"), 1;
	shutdown(fd, SHUT_WR);
	if (read_all(fd, reply, sizeof(reply)) || reply[0] != bytes)
		return fprintf(stderr, "avf_bench: vsock: the sink saw %llu of %llu bytes\n",
			       (unsigned long long)reply[0], (unsigned long long)bytes), 1;
	snprintf(name, sizeof(name), "%s_h2g_mbps", prefix);
	fig(name, (double)bytes / 1e6 / ((double)(now_ns() - t0) / 1e9), "MB/s");
	close(fd);

	/* guest -> host: 'G' and the count, the payload sends that many bytes then EOF */
	fd = vsock_open(dial, ctx, 'G');
	if (fd < 0 || write_all(fd, &bytes, sizeof(bytes)))
		return fprintf(stderr, "avf_bench: vsock: no connection\n"), 1;
	t0 = now_ns();
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		got += (uint64_t)r;
	if (got != bytes)
		return fprintf(stderr, "avf_bench: vsock: g2h got %llu of %llu bytes\n",
			       (unsigned long long)got, (unsigned long long)bytes), 1;
	snprintf(name, sizeof(name), "%s_g2h_mbps", prefix);
	fig(name, (double)bytes / 1e6 / ((double)(now_ns() - t0) / 1e9), "MB/s");
	close(fd);

	/* round trips: 'E' echoes every byte */
	fd = vsock_open(dial, ctx, 'E');
	if (fd < 0)
		return fprintf(stderr, "avf_bench: vsock: no connection\n"), 1;
	for (int i = 0; i < n; i++) {
		t0 = now_ns();
		if (write_all(fd, &ch, 1) || read_all(fd, &ch, 1))
			return fprintf(stderr, "avf_bench: vsock: round trip %d failed\n", i), 1;
		rtt[i] = (double)(now_ns() - t0) / 1e3;
	}
	close(fd);
	snprintf(name, sizeof(name), "%s_rtt_us_median", prefix);
	fig(name, pct(rtt, n, 50), "us");
	snprintf(name, sizeof(name), "%s_rtt_us_p99", prefix);
	fig(name, pct(rtt, n, 99), "us");
	free(rtt);
	/* 'Q' ends the payload (it answers with its failure count) */
	fd = vsock_open(dial, ctx, 'Q');
	if (fd >= 0) {
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	return 0;
}

static int dial_avf(void *ctx)
{
	int fd = -1;

	return avf_vm_connect_vsock(ctx, VSOCK_STREAM_PORT, &fd) == AVF_OK ? fd : -1;
}

static int dial_cid(void *ctx)
{
	struct sockaddr_vm a = {
		.svm_family = AF_VSOCK,
		.svm_cid = *(unsigned int *)ctx,
		.svm_port = VSOCK_STREAM_PORT,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Retries @dial until the payload listens (WAIT_S); the first connection is closed. */
static bool wait_listening(vsock_dial_fn dial, void *ctx)
{
	for (int i = 0; i < WAIT_S * 10; i++) {
		int fd = dial(ctx);

		if (fd >= 0) {
			close(fd);
			return true;
		}
		usleep(100 * 1000);
	}
	return false;
}

static int cmd_vsock(const char *prefix, const char *pkg, const char *payload, uint64_t mib, int n)
{
	struct avf_config *c = make_config(pkg, payload, VM_MEM_MIB);
	struct avf_vm *vm = make_vm("bench-vsock", c, NULL);
	int ret = avf_vm_run(vm);

	if (ret)
		die("run", ret, avf_vm_last_error(vm));
	if (!wait_listening(dial_avf, vm))
		die("vsock: the payload never listened", AVF_E_TIMEOUT, avf_vm_last_error(vm));
	ret = vsock_measure(prefix, dial_avf, vm, mib, n);
	avf_vm_wait_stopped(vm, WAIT_S * 1000);
	avf_vm_stop(vm);
	avf_vm_close(vm);
	avf_vm_delete(mgr, "bench-vsock");
	avf_config_free(c);
	return ret;
}

static int cmd_vsock_cid(const char *prefix, unsigned int cid, uint64_t mib, int n)
{
	if (!wait_listening(dial_cid, &cid)) {
		fprintf(stderr, "avf_bench: vsock: nothing listens on %u:%u\n", cid,
			VSOCK_STREAM_PORT);
		return 1;
	}
	return vsock_measure(prefix, dial_cid, &cid, mib, n);
}

int main(int argc, char **argv)
{
	char root[] = "/tmp/avf-bench-XXXXXX", *msg = NULL;
	int ret;

	if (argc < 5) {
		fprintf(stderr, "usage: avf_bench boot OUTDIR PACKAGE PAYLOAD TRIALS [PEER]\n"
				"       avf_bench stop|idle|density OUTDIR PACKAGE PAYLOAD "
				"[TRIALS|MAX]\n       avf_bench vsock PREFIX PACKAGE PAYLOAD MIB N\n"
				"       avf_bench vsock-cid PREFIX CID MIB N\n");
		return 2;
	}
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	ret = avf_manager_open(root, &mgr, &msg);
	if (ret)
		die("manager_open", ret, msg);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "boot") && (argc == 6 || argc == 7))
		ret = cmd_boot(argv[2], argv[3], argv[4], atoi(argv[5]), argc == 7 ? argv[6] : NULL);
	else if (!strcmp(argv[1], "stop") && argc == 6)
		ret = cmd_stop(argv[2], argv[3], argv[4], atoi(argv[5]));
	else if (!strcmp(argv[1], "idle") && argc == 5)
		ret = cmd_idle(argv[2], argv[3], argv[4]);
	else if (!strcmp(argv[1], "density") && argc == 6)
		ret = cmd_density(argv[2], argv[3], argv[4], atoi(argv[5]));
	else if (!strcmp(argv[1], "vsock") && argc == 7)
		ret = cmd_vsock(argv[2], argv[3], argv[4], strtoull(argv[5], NULL, 10),
				atoi(argv[6]));
	else if (!strcmp(argv[1], "vsock-cid") && argc == 6)
		ret = cmd_vsock_cid(argv[2], (unsigned int)strtoul(argv[3], NULL, 10),
				    strtoull(argv[4], NULL, 10), atoi(argv[5]));
	else {
		fprintf(stderr, "avf_bench: bad arguments\n");
		ret = 2;
	}
	avf_manager_close(mgr);
	return ret;
}
