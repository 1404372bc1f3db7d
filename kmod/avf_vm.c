// SPDX-License-Identifier: GPL-2.0
/*
 * VM instances, VM fds and VMM fds.
 *
 * An instance is found by (owner uid, name) in a global registry. Each open
 * VM fd is a struct avf_vm_file with its own event queue; each binding of a
 * VMM is a struct avf_vmm behind a VMM fd. Object lifetime is the fds'
 * release(): every fd holds a reference on its instance, the registry holds
 * one until delete.
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/net.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched/coredump.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/uaccess.h>
#include <net/sock.h>
#include "avf_internal.h"

/**
 * struct avf_registry - every live (not deleted) instance
 * @lock: protects @vms and @count.
 * @vms: struct avf_vm list.
 * @count: entries in @vms.
 */
static struct {
	struct mutex lock;	/* protects vms and count */
	struct list_head vms;
	unsigned int count;
} avf_registry = {
	.lock = __MUTEX_INITIALIZER(avf_registry.lock),
	.vms = LIST_HEAD_INIT(avf_registry.vms),
};

static DEFINE_SPINLOCK(avf_cid_lock);
static struct avf_cid_pool avf_cids;	/* protected by avf_cid_lock */

/**
 * struct avf_owner_runs - instances of one owner running now
 * @node: in avf_owner_table, under avf_run_lock.
 * @uid: the owner.
 * @running: bound instances of @uid; the entry is freed at zero.
 */
struct avf_owner_runs {
	struct hlist_node node;
	kuid_t uid;
	unsigned int running;
};

static DEFINE_SPINLOCK(avf_run_lock);
static DEFINE_HASHTABLE(avf_owner_table, 6);	/* under avf_run_lock */

/**
 * struct avf_vm_file - one open VM fd
 * @vm: the instance; set once before the fd is installed.
 * @node: in vm->readers, under vm->readers_lock.
 * @read_lock: serialises read() on this fd.
 * @q: pending records, under vm->readers_lock.
 * @ring: storage of @q.
 */
struct avf_vm_file {
	struct avf_vm *vm;
	struct list_head node;
	struct mutex read_lock;	/* one reader at a time */
	struct avf_evq q;
	struct avf_event ring[AVF_EVENT_QUEUE_LEN];
};

/* struct avf_conn.state */
enum avf_conn_state {
	AVF_CONN_QUEUED,	/* waiting for AVF_VMM_CONN_TAKE */
	AVF_CONN_TAKEN,		/* the VMM has its end, DONE pending */
	AVF_CONN_ENDED,		/* @result is final; off the list */
};

/**
 * struct avf_conn - one AVF_VM_CONNECT_VSOCK request
 * @node: in avf_vmm.conns while QUEUED or TAKEN; under vm->lock.
 * @id: request id, unique within the binding.
 * @port: guest port.
 * @state: enum avf_conn_state; under vm->lock.
 * @result: 0 or -errno once ENDED.
 * @vmm_end: the VMM's end of the socket pair until taken.
 * @wq: the requester waits here.
 *
 * Owned by the requester, who frees it after taking it off the list (or
 * finding it taken off) under vm->lock: whoever ends a request does so,
 * and wakes @wq, with vm->lock held.
 */
struct avf_conn {
	struct list_head node;
	u64 id;
	u32 port;
	enum avf_conn_state state;
	int result;
	struct file *vmm_end;
	wait_queue_head_t wq;
};

/**
 * struct avf_vmm - one binding of a VMM process to an instance
 * @vm: the instance (holds a reference).
 * @cid: CID allocated for this run, 0 once freed at unbind.
 * @bound: true while this is vm->vmm; under vm->lock.
 * @id: what AVF_VMM_LOAD measured and derived for this run (under
 *	vm->lock); wiped at release.
 * @conns: struct avf_conn requests QUEUED or TAKEN; under vm->lock.
 * @nconns: entries on @conns.
 * @nqueued: entries on @conns still QUEUED (read locklessly by poll).
 * @next_conn_id: id of the next request.
 * @wq: poll() on the VMM fd waits here.
 */
struct avf_vmm {
	struct avf_vm *vm;
	u32 cid;
	bool bound;
	struct avf_run_identity id;
	struct list_head conns;
	unsigned int nconns;
	unsigned int nqueued;
	u64 next_conn_id;
	wait_queue_head_t wq;
};

static void avf_vm_free(struct kref *ref)
{
	struct avf_vm *vm = container_of(ref, struct avf_vm, ref);

	WARN_ON(vm->vmm);
	put_pid(vm->vmm_pid);
	if (vm->vmm_cred)
		put_cred(vm->vmm_cred);
	mutex_destroy(&vm->lock);
	kfree(vm);
}

static void avf_vm_put(struct avf_vm *vm)
{
	kref_put(&vm->ref, avf_vm_free);
}

static struct avf_vm *avf_vm_alloc(kuid_t owner, const char *name)
{
	struct avf_vm *vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);

	if (!vm)
		return NULL;
	kref_init(&vm->ref);
	INIT_LIST_HEAD(&vm->node);
	vm->owner = owner;
	memcpy(vm->name, name, AVF_NAME_MAX);
	mutex_init(&vm->lock);
	vm->status = AVF_STATUS_STOPPED;
	vm->last_stop_reason = AVF_STOP_NONE;
	spin_lock_init(&vm->readers_lock);
	INIT_LIST_HEAD(&vm->readers);
	init_waitqueue_head(&vm->wq);
	return vm;
}

/*
 * Queue one record on every VM fd of @vm and wake readers.
 * Context: vm->lock held.
 */
static void avf_vm_emit(struct avf_vm *vm, u32 type, s32 code, const char *msg)
{
	struct avf_vm_file *vf;
	struct avf_event ev = {
		.type = type,
		.code = code,
		.seq = ++vm->seq,
		.timestamp_ns = ktime_get_ns(),
	};

	lockdep_assert_held(&vm->lock);
	if (msg)
		strscpy(ev.message, msg, sizeof(ev.message));
	spin_lock(&vm->readers_lock);
	list_for_each_entry(vf, &vm->readers, node)
		avf_evq_push(&vf->q, &ev);
	spin_unlock(&vm->readers_lock);
	wake_up_interruptible_poll(&vm->wq, EPOLLIN | EPOLLRDNORM);
}

/* ---- running instances per owner ----------------------------------- */

static struct avf_owner_runs *avf_owner_runs_find(kuid_t uid)
{
	struct avf_owner_runs *r;

	lockdep_assert_held(&avf_run_lock);
	hash_for_each_possible(avf_owner_table, r, node, __kuid_val(uid))
		if (uid_eq(r->uid, uid))
			return r;
	return NULL;
}

/*
 * Count one more running instance of @uid, or fail with -EUSERS at
 * AVF_MAX_RUNNING_PER_OWNER. *@spare is a preallocated entry, used (and
 * set to NULL) when @uid has none yet.
 */
static int avf_owner_run_get(kuid_t uid, struct avf_owner_runs **spare)
{
	struct avf_owner_runs *r;
	int ret = 0;

	spin_lock(&avf_run_lock);
	r = avf_owner_runs_find(uid);
	if (!r) {
		r = *spare;
		*spare = NULL;
		r->uid = uid;
		r->running = 0;
		hash_add(avf_owner_table, &r->node, __kuid_val(uid));
	}
	if (r->running >= AVF_MAX_RUNNING_PER_OWNER)
		ret = -EUSERS;
	else
		r->running++;
	spin_unlock(&avf_run_lock);
	return ret;
}

static void avf_owner_run_put(kuid_t uid)
{
	struct avf_owner_runs *r;

	spin_lock(&avf_run_lock);
	r = avf_owner_runs_find(uid);
	if (!WARN_ON(!r || !r->running) && !--r->running) {
		hash_del(&r->node);
		kfree(r);
	}
	spin_unlock(&avf_run_lock);
}

static void avf_cid_put(u32 cid)
{
	spin_lock(&avf_cid_lock);
	avf_cid_free(&avf_cids, cid);
	spin_unlock(&avf_cid_lock);
}

/*
 * End request @c with @result and wake its requester.
 * Context: vm->lock held, @c on vmm->conns.
 */
static void avf_conn_end(struct avf_vmm *vmm, struct avf_conn *c, int result)
{
	lockdep_assert_held(&vmm->vm->lock);
	if (c->state == AVF_CONN_QUEUED)
		WRITE_ONCE(vmm->nqueued, vmm->nqueued - 1);
	list_del_init(&c->node);
	vmm->nconns--;
	c->state = AVF_CONN_ENDED;
	c->result = result;
	wake_up(&c->wq);
}

/*
 * End the current run: RUNNING -> STOPPED with @reason. Frees the run's
 * CID and its place in the owner's running count, aborts its host
 * connection requests and hangs up the VMM fd's poll.
 * Context: vm->lock held, vm->vmm set. Returns the VMM's pid and cred
 * references, which the caller puts (after signalling it, for a stop).
 */
static struct pid *avf_vm_unbind(struct avf_vm *vm, s32 reason,
				 const struct cred **cred)
{
	struct avf_vmm *vmm = vm->vmm;
	struct pid *pid = vm->vmm_pid;
	struct avf_conn *c, *tmp;

	lockdep_assert_held(&vm->lock);
	WARN_ON(!avf_status_transition_ok(vm->status, AVF_STATUS_STOPPED));
	avf_vm_emit(vm, AVF_EVENT_STOPPED, reason, NULL);
	list_for_each_entry_safe(c, tmp, &vmm->conns, node)
		avf_conn_end(vmm, c, -ECONNABORTED);
	avf_cid_put(vmm->cid);
	vmm->cid = 0;
	avf_owner_run_put(vm->owner);
	WRITE_ONCE(vmm->bound, false);
	wake_up_poll(&vmm->wq, EPOLLHUP);
	*cred = vm->vmm_cred;
	vm->vmm = NULL;
	vm->vmm_pid = NULL;
	vm->vmm_cred = NULL;
	vm->status = AVF_STATUS_STOPPED;
	vm->cid = 0;
	vm->last_stop_reason = reason;
	return pid;
}

/* Unbind and drop the pid and cred references at once. */
static void avf_vm_unbind_put(struct avf_vm *vm, s32 reason)
{
	const struct cred *cred;

	put_pid(avf_vm_unbind(vm, reason, &cred));
	if (cred)
		put_cred(cred);
}

/* ---- VMM fd --------------------------------------------------------- */

static int avf_vmm_release(struct inode *inode, struct file *file)
{
	struct avf_vmm *vmm = file->private_data;
	struct avf_vm *vm = vmm->vm;

	mutex_lock(&vm->lock);
	if (vmm->bound)
		avf_vm_unbind_put(vm, AVF_STOP_CRASH);
	mutex_unlock(&vm->lock);
	WARN_ON(!list_empty(&vmm->conns));
	avf_run_identity_clear(&vmm->id);
	avf_cid_put(vmm->cid);	/* a binding that never committed */
	avf_vm_put(vm);
	kfree(vmm);
	return 0;
}

/* Errors of LOAD that tell the owner why the instance was refused. */
static bool avf_load_refused(int ret)
{
	return ret == -EKEYREJECTED || ret == -EBADMSG || ret == -EPROTONOSUPPORT;
}

static long avf_vmm_load(struct avf_vmm *vmm, void __user *arg)
{
	struct avf_vm *vm = vmm->vm;
	s32 code = AVF_ERROR_UNKNOWN;
	char why[AVF_MESSAGE_MAX];
	struct avf_load *ld;
	int ret;

	ld = avf_load_prepare(arg);
	if (IS_ERR(ld))
		return PTR_ERR(ld);

	mutex_lock(&vm->lock);
	ret = !vmm->bound ? -ESHUTDOWN : vmm->id.loaded ? -EALREADY :
	      vmm->id.busy ? -EBUSY : 0;
	if (!ret)
		vmm->id.busy = true;
	mutex_unlock(&vm->lock);
	if (ret)
		goto out;

	ret = avf_load_run(ld, vm->owner, why, sizeof(why), &code);

	mutex_lock(&vm->lock);
	vmm->id.busy = false;
	if (!ret && !vmm->bound)
		ret = -ESHUTDOWN;	/* stopped meanwhile */
	/* Tell the owner why; the VMM ends the run with a stop reason. */
	if (avf_load_refused(ret) && vmm->bound &&
	    !avf_report_check_order(&vm->run, AVF_EVENT_ERROR)) {
		avf_report_apply(&vm->run, AVF_EVENT_ERROR);
		avf_vm_emit(vm, AVF_EVENT_ERROR, code, why);
	}
	if (!ret) {
		avf_load_take_secret(ld, vmm->id.secret);
		vmm->id.loaded = true;
	}
	mutex_unlock(&vm->lock);
	if (!ret)
		avf_load_install(ld);
out:
	avf_load_free(ld);
	return ret;
}

static long avf_vmm_start(struct avf_vmm *vmm, void __user *arg)
{
	struct avf_vm *vm = vmm->vm;
	u8 secret[AVF_SECRET_SIZE];
	struct avf_vmm_start s;
	int ret;

	if (copy_from_user(&s, arg, sizeof(s)))
		return -EFAULT;
	ret = avf_vmm_start_validate(&s);
	if (ret)
		return ret;

	mutex_lock(&vm->lock);
	ret = !vmm->bound ? -ESHUTDOWN : !vmm->id.loaded ? -ENOKEY :
	      vmm->id.started ? -EALREADY : vmm->id.busy ? -EBUSY : 0;
	if (!ret) {
		vmm->id.busy = true;
		memcpy(secret, vmm->id.secret, sizeof(secret));
	}
	mutex_unlock(&vm->lock);
	if (ret)
		return ret;

	ret = avf_secret_write(s.mem_fd, s.secret_offset, secret);
	memzero_explicit(secret, sizeof(secret));

	mutex_lock(&vm->lock);
	vmm->id.busy = false;
	if (!ret && !vmm->bound)
		ret = -ESHUTDOWN;
	if (!ret) {
		vmm->id.started = true;
		memzero_explicit(vmm->id.secret, sizeof(vmm->id.secret));
	}
	mutex_unlock(&vm->lock);
	return ret;
}

static long avf_vmm_report(struct avf_vmm *vmm, void __user *arg)
{
	struct avf_vm *vm = vmm->vm;
	struct avf_vmm_report r;
	int ret;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	ret = avf_report_validate(&r);
	if (ret)
		return ret;

	mutex_lock(&vm->lock);
	if (!vmm->bound) {
		ret = -ESHUTDOWN;
		goto out;
	}
	ret = avf_report_check_order(&vm->run, r.type);
	if (ret)
		goto out;
	avf_report_apply(&vm->run, r.type);
	if (r.type == AVF_EVENT_STOPPED)
		avf_vm_unbind_put(vm, r.code);
	else
		avf_vm_emit(vm, r.type, r.code,
			    r.type == AVF_EVENT_ERROR ? r.message : NULL);
out:
	mutex_unlock(&vm->lock);
	return ret;
}

static long avf_vmm_set_stats(struct avf_vmm *vmm, void __user *arg)
{
	struct avf_vm *vm = vmm->vm;
	struct avf_vmm_stats st;
	int ret;

	if (copy_from_user(&st, arg, sizeof(st)))
		return -EFAULT;

	mutex_lock(&vm->lock);
	if (!vmm->bound)
		ret = -ESHUTDOWN;
	else
		ret = avf_stats_update(&vm->stats, &st);
	mutex_unlock(&vm->lock);
	return ret;
}

/* The request @id on @vmm's list, or NULL. Context: vm->lock held. */
static struct avf_conn *avf_conn_find(struct avf_vmm *vmm, u64 id)
{
	struct avf_conn *c;

	lockdep_assert_held(&vmm->vm->lock);
	list_for_each_entry(c, &vmm->conns, node)
		if (c->id == id)
			return c;
	return NULL;
}

static long avf_vmm_conn_take(struct avf_vmm *vmm, void __user *arg)
{
	struct avf_vm *vm = vmm->vm;
	struct avf_vmm_conn t;
	struct avf_conn *c;
	struct file *file = NULL;
	int fd, ret;

	if (copy_from_user(&t, arg, sizeof(t)))
		return -EFAULT;
	if (!avf_zeroed(t.reserved, sizeof(t.reserved)))
		return -EINVAL;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;

	mutex_lock(&vm->lock);
	ret = vmm->bound ? -EAGAIN : -ESHUTDOWN;
	if (vmm->bound) {
		list_for_each_entry(c, &vmm->conns, node) {
			if (c->state != AVF_CONN_QUEUED)
				continue;
			c->state = AVF_CONN_TAKEN;
			WRITE_ONCE(vmm->nqueued, vmm->nqueued - 1);
			file = c->vmm_end;
			c->vmm_end = NULL;
			memset(&t, 0, sizeof(t));
			t.id = c->id;
			t.port = c->port;
			t.fd = fd;
			ret = 0;
			break;
		}
	}
	mutex_unlock(&vm->lock);
	if (ret)
		goto err_fd;

	if (copy_to_user(arg, &t, sizeof(t))) {
		/* Change nothing: queue the request again if it is still on. */
		ret = -EFAULT;
		mutex_lock(&vm->lock);
		c = vmm->bound ? avf_conn_find(vmm, t.id) : NULL;
		if (c && c->state == AVF_CONN_TAKEN) {
			c->state = AVF_CONN_QUEUED;
			c->vmm_end = file;
			file = NULL;
			WRITE_ONCE(vmm->nqueued, vmm->nqueued + 1);
			wake_up_poll(&vmm->wq, EPOLLIN | EPOLLRDNORM);
		}
		mutex_unlock(&vm->lock);
		if (file)
			fput(file);
		goto err_fd;
	}
	fd_install(fd, file);
	return 0;

err_fd:
	put_unused_fd(fd);
	return ret;
}

static long avf_vmm_conn_done(struct avf_vmm *vmm, void __user *arg)
{
	struct avf_vm *vm = vmm->vm;
	struct avf_vmm_conn_done d;
	struct avf_conn *c;
	int ret = -ENOENT;

	if (copy_from_user(&d, arg, sizeof(d)))
		return -EFAULT;
	if (d.reserved0 || !avf_zeroed(d.reserved, sizeof(d.reserved)))
		return -EINVAL;
	if (d.result != 0 && d.result != -ECONNREFUSED &&
	    d.result != -ETIMEDOUT)
		return -EINVAL;

	mutex_lock(&vm->lock);
	c = vmm->bound ? avf_conn_find(vmm, d.id) : NULL;
	if (c && c->state == AVF_CONN_TAKEN) {
		avf_conn_end(vmm, c, d.result);
		ret = 0;
	}
	mutex_unlock(&vm->lock);
	return ret;
}

static __poll_t avf_vmm_poll(struct file *file, poll_table *wait)
{
	struct avf_vmm *vmm = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &vmm->wq, wait);
	if (READ_ONCE(vmm->nqueued))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (!READ_ONCE(vmm->bound))
		mask |= EPOLLHUP;
	return mask;
}

static long avf_vmm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct avf_vmm *vmm = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case AVF_VMM_REPORT:
		return avf_vmm_report(vmm, uarg);
	case AVF_VMM_START:
		return avf_vmm_start(vmm, uarg);
	case AVF_VMM_LOAD:
		return avf_vmm_load(vmm, uarg);
	case AVF_VMM_CONN_TAKE:
		return avf_vmm_conn_take(vmm, uarg);
	case AVF_VMM_CONN_DONE:
		return avf_vmm_conn_done(vmm, uarg);
	case AVF_VMM_SET_STATS:
		return avf_vmm_set_stats(vmm, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations avf_vmm_fops = {
	.owner = THIS_MODULE,
	.release = avf_vmm_release,
	.poll = avf_vmm_poll,
	.unlocked_ioctl = avf_vmm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/* ---- VM fd ---------------------------------------------------------- */

static int avf_vm_check_live(struct avf_vm *vm)
{
	lockdep_assert_held(&vm->lock);
	return vm->status == AVF_STATUS_DELETED ? -EIDRM : 0;
}

/*
 * May the calling process bind @vm? Its real, effective, saved and fs
 * uids must all be the trusted VMM uid or, in development mode, the
 * owner; and it must not be dumpable (a ptrace-able or core-dumping VMM
 * would hand the secret to its uid). @cred is the caller's, read once.
 */
static int avf_bind_permitted(const struct avf_vm *vm, const struct cred *cred)
{
	struct avf_params p;
	kuid_t want[2];
	int i;

	avf_params_get(&p);
	want[0] = p.vmm_uid;
	want[1] = p.owner_vmm ? vm->owner : INVALID_UID;
	if (!current->mm || get_dumpable(current->mm) == SUID_DUMP_USER)
		return -EPERM;
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		if (!uid_valid(want[i]))
			continue;
		if (uid_eq(cred->uid, want[i]) && uid_eq(cred->euid, want[i]) &&
		    uid_eq(cred->suid, want[i]) && uid_eq(cred->fsuid, want[i]))
			return 0;
	}
	return -EPERM;
}

static long avf_vm_bind(struct avf_vm *vm, void __user *arg)
{
	struct avf_owner_runs *spare;
	const struct cred *cred, *leader_cred;
	struct avf_vm_bind b;
	struct avf_vmm *vmm;
	struct file *file;
	int fd, ret;

	if (copy_from_user(&b, arg, sizeof(b)))
		return -EFAULT;
	if (b.flags & ~AVF_BIND_VALID || b.cid ||
	    !avf_zeroed(b.reserved, sizeof(b.reserved)))
		return -EINVAL;
	cred = get_current_cred();
	ret = avf_bind_permitted(vm, cred);
	put_cred(cred);
	if (ret)
		return ret;

	/* Fail fast before allocating; checked again when committing. */
	mutex_lock(&vm->lock);
	ret = avf_vm_check_live(vm);
	if (!ret && vm->status != AVF_STATUS_STOPPED)
		ret = -EBUSY;
	mutex_unlock(&vm->lock);
	if (ret)
		return ret;

	spare = kzalloc(sizeof(*spare), GFP_KERNEL_ACCOUNT);
	vmm = kzalloc(sizeof(*vmm), GFP_KERNEL_ACCOUNT);
	if (!vmm || !spare) {
		kfree(spare);
		kfree(vmm);
		return -ENOMEM;
	}
	INIT_LIST_HEAD(&vmm->conns);
	init_waitqueue_head(&vmm->wq);
	vmm->next_conn_id = 1;
	spin_lock(&avf_cid_lock);
	ret = avf_cid_alloc(&avf_cids, &vmm->cid);
	spin_unlock(&avf_cid_lock);
	if (ret) {
		kfree(spare);
		kfree(vmm);
		return ret;
	}
	kref_get(&vm->ref);
	vmm->vm = vm;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_vmm;
	}
	file = anon_inode_getfile("avf-vmm", &avf_vmm_fops, vmm, O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}

	b.cid = vmm->cid;
	if (copy_to_user(arg, &b, sizeof(b))) {
		ret = -EFAULT;
		goto err_file;
	}

	/*
	 * AVF_VM_STOP signals the thread group only while its leader still
	 * has these credentials: any exec or set*id() replaces them.
	 */
	rcu_read_lock();
	leader_cred = get_cred(rcu_dereference(current->group_leader->real_cred));
	rcu_read_unlock();

	mutex_lock(&vm->lock);
	ret = avf_vm_check_live(vm);
	if (!ret && vm->status != AVF_STATUS_STOPPED)
		ret = -EBUSY;
	if (!ret)
		ret = avf_owner_run_get(vm->owner, &spare);
	if (ret) {
		mutex_unlock(&vm->lock);
		put_cred(leader_cred);
		goto err_file;
	}
	vm->status = AVF_STATUS_RUNNING;
	vm->cid = vmm->cid;
	vm->run_count++;
	memset(&vm->run, 0, sizeof(vm->run));
	memset(&vm->stats, 0, sizeof(vm->stats));
	vm->vmm = vmm;
	vm->vmm_pid = get_pid(task_tgid(current));
	vm->vmm_cred = leader_cred;
	WRITE_ONCE(vmm->bound, true);
	avf_vm_emit(vm, AVF_EVENT_RUNNING, vmm->cid, NULL);
	mutex_unlock(&vm->lock);

	kfree(spare);
	fd_install(fd, file);
	return fd;

err_file:
	kfree(spare);
	put_unused_fd(fd);
	fput(file);	/* release() frees vmm, its CID and its reference */
	return ret;
err_fd:
	put_unused_fd(fd);
err_vmm:
	kfree(spare);
	avf_cid_put(vmm->cid);
	avf_vm_put(vm);
	kfree(vmm);
	return ret;
}

/*
 * SIGKILL the thread group @pid if its leader's credentials are still
 * @cred (the caller holds a reference, so the pointer cannot be reused).
 * Holding exec_update_lock keeps an exec from committing new credentials
 * between the check and the signal.
 */
static void avf_vmm_kill(struct pid *pid, const struct cred *cred)
{
	struct task_struct *task;
	bool same;

	task = get_pid_task(pid, PIDTYPE_TGID);
	if (!task)
		return;
	if (!down_read_killable(&task->signal->exec_update_lock)) {
		rcu_read_lock();
		same = rcu_access_pointer(task->real_cred) == cred;
		rcu_read_unlock();
		if (same)
			kill_pid(pid, SIGKILL, 1);
		up_read(&task->signal->exec_update_lock);
	}
	put_task_struct(task);
}

static long avf_vm_stop(struct avf_vm *vm)
{
	const struct cred *cred = NULL;
	struct pid *pid = NULL;
	int ret;

	mutex_lock(&vm->lock);
	ret = avf_vm_check_live(vm);
	if (!ret && vm->status != AVF_STATUS_RUNNING)
		ret = -ESRCH;
	if (!ret)
		pid = avf_vm_unbind(vm, AVF_STOP_KILLED, &cred);
	mutex_unlock(&vm->lock);

	if (pid) {
		avf_vmm_kill(pid, cred);
		put_pid(pid);
	}
	if (cred)
		put_cred(cred);
	return ret;
}

/* ---- connectVsock ---------------------------------------------------- */

/*
 * A connected AF_UNIX stream pair in the caller's network namespace, as
 * socketpair(2) makes it; @owner_flags and O_NONBLOCK for the VMM end.
 */
static int avf_conn_socketpair(int owner_flags, struct file **owner_end,
			       struct file **vmm_end)
{
	struct socket *a, *b;
	struct file *fa, *fb;
	int ret;

	ret = sock_create(AF_UNIX, SOCK_STREAM, 0, &a);
	if (ret)
		return ret;
	ret = sock_create(AF_UNIX, SOCK_STREAM, 0, &b);
	if (ret)
		goto err_a;
	ret = security_socket_socketpair(a, b);
	if (!ret)
		ret = READ_ONCE(a->ops)->socketpair(a, b);
	if (ret)
		goto err_b;
	fa = sock_alloc_file(a, owner_flags, NULL);
	if (IS_ERR(fa)) {
		sock_release(b);
		return PTR_ERR(fa);
	}
	fb = sock_alloc_file(b, O_NONBLOCK, NULL);
	if (IS_ERR(fb)) {
		fput(fa);
		return PTR_ERR(fb);
	}
	*owner_end = fa;
	*vmm_end = fb;
	return 0;

err_b:
	sock_release(b);
err_a:
	sock_release(a);
	return ret;
}

static long avf_vm_connect_vsock(struct avf_vm *vm, void __user *arg)
{
	struct avf_vsock_connect r;
	struct file *owner_end;
	struct avf_vmm *vmm;
	struct avf_conn *c;
	unsigned int ms;
	long left;
	int fd, ret;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	if (r.flags & ~AVF_CONNECT_VALID || r.reserved0 ||
	    !avf_zeroed(r.reserved, sizeof(r.reserved)) ||
	    r.port < AVF_VSOCK_PORT_MIN || r.port == U32_MAX ||
	    r.timeout_ms > AVF_CONNECT_TIMEOUT_MAX_MS)
		return -EINVAL;
	if (!uid_eq(current_euid(), vm->owner))
		return -EPERM;
	ms = r.timeout_ms ? r.timeout_ms : AVF_CONNECT_TIMEOUT_DEFAULT_MS;

	mutex_lock(&vm->lock);
	ret = avf_vm_check_live(vm);
	if (!ret && !vm->vmm)
		ret = -ESRCH;
	mutex_unlock(&vm->lock);
	if (ret)
		return ret;

	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;
	INIT_LIST_HEAD(&c->node);
	init_waitqueue_head(&c->wq);
	c->port = r.port;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out_free;
	}
	ret = avf_conn_socketpair(r.flags & AVF_CONNECT_NONBLOCK ? O_NONBLOCK : 0,
				  &owner_end, &c->vmm_end);
	if (ret)
		goto out_fd;

	mutex_lock(&vm->lock);
	vmm = vm->vmm;
	ret = avf_vm_check_live(vm);
	if (!ret && !vmm)
		ret = -ESRCH;
	if (!ret && vmm->nconns >= AVF_MAX_PENDING_CONNECTS)
		ret = -EAGAIN;
	if (!ret) {
		c->id = vmm->next_conn_id++;
		c->state = AVF_CONN_QUEUED;
		list_add_tail(&c->node, &vmm->conns);
		vmm->nconns++;
		WRITE_ONCE(vmm->nqueued, vmm->nqueued + 1);
		wake_up_poll(&vmm->wq, EPOLLIN | EPOLLRDNORM);
	}
	mutex_unlock(&vm->lock);
	if (ret)
		goto out_files;

	left = wait_event_interruptible_timeout(c->wq,
						READ_ONCE(c->state) == AVF_CONN_ENDED,
						msecs_to_jiffies(ms));

	mutex_lock(&vm->lock);
	if (c->state != AVF_CONN_ENDED) {
		/* Gave up: take it off whichever binding still lists it. */
		avf_conn_end(vm->vmm, c, left < 0 ? -EINTR : -ETIMEDOUT);
	}
	ret = c->result;
	mutex_unlock(&vm->lock);
	if (ret)
		goto out_files;

	if (c->vmm_end)
		fput(c->vmm_end);
	kfree(c);
	fd_install(fd, owner_end);
	return fd;

out_files:
	if (c->vmm_end)
		fput(c->vmm_end);
	fput(owner_end);
out_fd:
	put_unused_fd(fd);
out_free:
	kfree(c);
	return ret;
}

static long avf_vm_delete(struct avf_vm *vm)
{
	int ret;

	mutex_lock(&avf_registry.lock);
	mutex_lock(&vm->lock);
	ret = avf_vm_check_live(vm);
	if (!ret && vm->status != AVF_STATUS_STOPPED)
		ret = -EBUSY;
	if (!ret) {
		vm->status = AVF_STATUS_DELETED;
		list_del_init(&vm->node);
		avf_registry.count--;
	}
	mutex_unlock(&vm->lock);
	mutex_unlock(&avf_registry.lock);
	if (ret)
		return ret;

	wake_up_interruptible_poll(&vm->wq, EPOLLHUP);
	avf_vm_put(vm);	/* the registry's reference */
	return 0;
}

static long avf_vm_get_info(struct avf_vm *vm, void __user *arg)
{
	struct avf_vm_info info;

	memset(&info, 0, sizeof(info));
	mutex_lock(&vm->lock);
	info.status = vm->status;
	info.cid = vm->cid;
	info.vmm_pid = vm->vmm_pid ? pid_vnr(vm->vmm_pid) : 0;
	info.last_stop_reason = vm->last_stop_reason;
	info.run_count = vm->run_count;
	memcpy(info.name, vm->name, AVF_NAME_MAX);
	info.vsock_refused = vm->stats.vsock_refused;
	info.console_dropped = vm->stats.console_dropped;
	mutex_unlock(&vm->lock);

	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long avf_vm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct avf_vm_file *vf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case AVF_VM_GET_INFO:
		return avf_vm_get_info(vf->vm, uarg);
	case AVF_VM_DELETE:
		return arg ? -EINVAL : avf_vm_delete(vf->vm);
	case AVF_VM_STOP:
		return arg ? -EINVAL : avf_vm_stop(vf->vm);
	case AVF_VM_BIND_VMM:
		return avf_vm_bind(vf->vm, uarg);
	case AVF_VM_CONNECT_VSOCK:
		return avf_vm_connect_vsock(vf->vm, uarg);
	default:
		return -ENOTTY;
	}
}

static bool avf_vm_file_readable(struct avf_vm_file *vf)
{
	bool ret;

	spin_lock(&vf->vm->readers_lock);
	ret = !avf_evq_empty(&vf->q);
	spin_unlock(&vf->vm->readers_lock);
	return ret;
}

static bool avf_vm_deleted(struct avf_vm *vm)
{
	return READ_ONCE(vm->status) == AVF_STATUS_DELETED;
}

static ssize_t avf_vm_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	struct avf_vm_file *vf = file->private_data;
	struct avf_vm *vm = vf->vm;
	struct avf_event ev;
	ssize_t done = 0;
	int ret;

	if (count < sizeof(ev))
		return -EINVAL;

	if (mutex_lock_interruptible(&vf->read_lock))
		return -ERESTARTSYS;
	while (count - done >= sizeof(ev)) {
		bool have;

		spin_lock(&vm->readers_lock);
		have = avf_evq_peek(&vf->q, &ev);
		spin_unlock(&vm->readers_lock);
		if (!have) {
			if (done || avf_vm_deleted(vm))
				break;
			if (file->f_flags & O_NONBLOCK) {
				done = -EAGAIN;
				break;
			}
			ret = wait_event_interruptible(vm->wq,
						       avf_vm_file_readable(vf) ||
						       avf_vm_deleted(vm));
			if (ret) {
				done = ret;
				break;
			}
			continue;
		}
		if (copy_to_user(buf + done, &ev, sizeof(ev))) {
			if (!done)
				done = -EFAULT;
			break;
		}
		spin_lock(&vm->readers_lock);
		avf_evq_consume(&vf->q, &ev);
		spin_unlock(&vm->readers_lock);
		done += sizeof(ev);
	}
	mutex_unlock(&vf->read_lock);
	return done;
}

static __poll_t avf_vm_poll(struct file *file, poll_table *wait)
{
	struct avf_vm_file *vf = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &vf->vm->wq, wait);
	if (avf_vm_file_readable(vf))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (avf_vm_deleted(vf->vm))
		mask |= EPOLLHUP;
	return mask;
}

static int avf_vm_release(struct inode *inode, struct file *file)
{
	struct avf_vm_file *vf = file->private_data;
	struct avf_vm *vm;

	if (!vf)	/* detached by a failed AVF_VM_OPEN */
		return 0;
	vm = vf->vm;
	spin_lock(&vm->readers_lock);
	list_del(&vf->node);
	spin_unlock(&vm->readers_lock);
	mutex_destroy(&vf->read_lock);
	kvfree(vf);
	avf_vm_put(vm);
	return 0;
}

static const struct file_operations avf_vm_fops = {
	.owner = THIS_MODULE,
	.release = avf_vm_release,
	.read = avf_vm_read,
	.poll = avf_vm_poll,
	.unlocked_ioctl = avf_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/* ---- /dev/avf: AVF_VM_OPEN ------------------------------------------ */

static struct avf_vm *avf_registry_find(kuid_t owner, const char *name,
					unsigned int *owned)
{
	struct avf_vm *vm, *found = NULL;

	lockdep_assert_held(&avf_registry.lock);
	*owned = 0;
	list_for_each_entry(vm, &avf_registry.vms, node) {
		if (!uid_eq(vm->owner, owner))
			continue;
		(*owned)++;
		if (!strncmp(vm->name, name, AVF_NAME_MAX))
			found = vm;
	}
	return found;
}

long avf_vm_open_ioctl(void __user *arg)
{
	kuid_t owner = current_euid();
	struct avf_vm *vm, *fresh;
	struct avf_vm_file *vf;
	struct avf_vm_open o;
	unsigned int owned;
	struct file *file;
	int fd, ret;

	if (copy_from_user(&o, arg, sizeof(o)))
		return -EFAULT;
	if (o.flags & ~AVF_OPEN_VALID || o.reserved0 ||
	    !avf_zeroed(o.reserved, sizeof(o.reserved)))
		return -EINVAL;
	if ((o.flags & AVF_OPEN_EXCL) && !(o.flags & AVF_OPEN_CREATE))
		return -EINVAL;
	ret = avf_name_validate(o.name);
	if (ret)
		return ret;

	vf = kvzalloc(sizeof(*vf), GFP_KERNEL_ACCOUNT);
	if (!vf)
		return -ENOMEM;
	mutex_init(&vf->read_lock);
	INIT_LIST_HEAD(&vf->node);
	avf_evq_init(&vf->q, vf->ring, AVF_EVENT_QUEUE_LEN);
	fresh = NULL;
	if (o.flags & AVF_OPEN_CREATE) {
		fresh = avf_vm_alloc(owner, o.name);
		if (!fresh) {
			ret = -ENOMEM;
			goto err_vf;
		}
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_fresh;
	}
	file = anon_inode_getfile("avf-vm", &avf_vm_fops, vf, O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}

	mutex_lock(&avf_registry.lock);
	vm = avf_registry_find(owner, o.name, &owned);
	if (vm && (o.flags & AVF_OPEN_EXCL)) {
		ret = -EEXIST;
	} else if (!vm && !fresh) {
		ret = -ENOENT;
	} else if (!vm && (owned >= AVF_MAX_VMS_PER_OWNER ||
			   avf_registry.count >= AVF_MAX_VMS)) {
		ret = -ENOSPC;
	} else if (!vm) {
		vm = fresh;
		fresh = NULL;
		list_add_tail(&vm->node, &avf_registry.vms);
		avf_registry.count++;
	}
	if (!ret) {
		kref_get(&vm->ref);	/* the fd's reference */
		vf->vm = vm;
		spin_lock(&vm->readers_lock);
		list_add_tail(&vf->node, &vm->readers);
		spin_unlock(&vm->readers_lock);
	}
	mutex_unlock(&avf_registry.lock);
	if (ret)
		goto err_file;

	if (fresh)
		avf_vm_put(fresh);
	fd_install(fd, file);
	return fd;

err_file:
	/* release() must not run on a half-built fd: detach it first. */
	file->private_data = NULL;
	put_unused_fd(fd);
	fput(file);
	goto err_fresh;
err_fd:
	put_unused_fd(fd);
err_fresh:
	if (fresh)
		avf_vm_put(fresh);
err_vf:
	mutex_destroy(&vf->read_lock);
	kvfree(vf);
	return ret;
}

void avf_fill_capabilities(struct avf_capabilities *caps)
{
	struct avf_params p;

	memset(caps, 0, sizeof(*caps));
	caps->abi_version = AVF_ABI_VERSION;
	/*
	 * Non-protected VMs need KVM on a CPU with SVM or VMX. No backend
	 * here isolates guest memory from the host, so protected VMs are
	 * never reported.
	 */
	if (IS_ENABLED(CONFIG_KVM) &&
	    (boot_cpu_has(X86_FEATURE_SVM) || boot_cpu_has(X86_FEATURE_VMX)))
		caps->caps |= AVF_CAP_NON_PROTECTED_VM;
	if (avf_uds_persistent())
		caps->flags |= AVF_CAPS_UDS_PERSISTENT;
	avf_params_get(&p);
	if (uid_valid(p.vmm_uid))
		caps->flags |= AVF_CAPS_TRUSTED_VMM;
	if (p.owner_vmm)
		caps->flags |= AVF_CAPS_OWNER_IS_VMM;
	caps->vmm_uid = p.raw_vmm_uid;
	caps->max_vms_per_owner = AVF_MAX_VMS_PER_OWNER;
	caps->event_queue_len = AVF_EVENT_QUEUE_LEN;
	caps->max_running_per_owner = AVF_MAX_RUNNING_PER_OWNER;
	caps->max_pending_connects = AVF_MAX_PENDING_CONNECTS;
}

int avf_objects_init(void)
{
	int ret = avf_identity_init();

	if (ret)
		return ret;
	ret = avf_cid_pool_init(&avf_cids, AVF_CID_FIRST, AVF_CID_LAST);
	if (ret)
		avf_identity_exit();
	return ret;
}

void avf_objects_exit(void)
{
	struct avf_vm *vm, *tmp;

	/*
	 * Every fd pins the module, so only the registry's references are
	 * left: instances not deleted before unload go away with the module.
	 */
	mutex_lock(&avf_registry.lock);
	list_for_each_entry_safe(vm, tmp, &avf_registry.vms, node) {
		list_del_init(&vm->node);
		avf_registry.count--;
		WARN_ON(kref_read(&vm->ref) != 1);
		avf_vm_put(vm);
	}
	mutex_unlock(&avf_registry.lock);
	avf_cid_pool_destroy(&avf_cids);
	avf_identity_exit();
}
