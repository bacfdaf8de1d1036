// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: limits - what one open file and one user may hold.
 *
 * A user with access to /dev/cohbuf-importer must not be able to exhaust
 * the kernel's memory or the engines' time: contexts per user, and jobs
 * and imports per open file and per user, are bounded by module
 * parameters. A context is charged to the real uid of the task that
 * opened it (the file's credentials), as RLIMIT_NPROC counts processes;
 * a context opened with CAP_SYS_RESOURCE may exceed the per-user limits,
 * but not the per-file ones, which bound one context whoever owns it.
 *
 * cohbuf_imp_charge() and cohbuf_imp_uncharge() count one unit of a kind
 * against both the file and its user; a new kind of object adds a value
 * to enum cohbuf_imp_kind (importer.h), its parameters and its row in
 * cohbuf_imp_kinds[]. Closing a context gives all its units back at once
 * (cohbuf_imp_limits_detach()), even though what they stand for is freed
 * a little later (importer_main.c).
 *
 * Streams are counted per user only, and not through the context: a
 * stream is a file of its own that outlives the context it was made from.
 * cohbuf_imp_stream_charge() gives the stream a reference to its user's
 * entry, which keeps the entry (and the count) alive after the user's
 * last context closed; cohbuf_imp_stream_uncharge() at the stream's
 * release gives the unit and the reference back.
 *
 * A leaf: called by importer_main.c at open and close, by the import and
 * job files when they create and drop what they count.
 */

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/lockdep.h>
#include <linux/moduleparam.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/stringify.h>
#include <linux/uidgid.h>

#include "importer.h"

#define COHBUF_IMP_DEFAULT_MAX_JOBS		1024
#define COHBUF_IMP_DEFAULT_MAX_IMPORTS		1024
#define COHBUF_IMP_DEFAULT_MAX_USER_CONTEXTS	128
#define COHBUF_IMP_DEFAULT_MAX_USER_JOBS	4096
#define COHBUF_IMP_DEFAULT_MAX_USER_IMPORTS	4096
#define COHBUF_IMP_DEFAULT_MAX_USER_STREAMS	64

static unsigned int max_jobs = COHBUF_IMP_DEFAULT_MAX_JOBS;
module_param(max_jobs, uint, 0644);
MODULE_PARM_DESC(max_jobs,
		 "Unreaped jobs per open file; SUBMIT fails with EBUSY beyond (default "
		 __stringify(COHBUF_IMP_DEFAULT_MAX_JOBS) ")");

static unsigned int max_imports = COHBUF_IMP_DEFAULT_MAX_IMPORTS;
module_param(max_imports, uint, 0644);
MODULE_PARM_DESC(max_imports,
		 "Live handles per open file; IMPORT fails with EBUSY beyond (default "
		 __stringify(COHBUF_IMP_DEFAULT_MAX_IMPORTS) ")");

static unsigned int max_user_contexts = COHBUF_IMP_DEFAULT_MAX_USER_CONTEXTS;
module_param(max_user_contexts, uint, 0644);
MODULE_PARM_DESC(max_user_contexts,
		 "Open files per real uid without CAP_SYS_RESOURCE; open fails with EMFILE beyond (default "
		 __stringify(COHBUF_IMP_DEFAULT_MAX_USER_CONTEXTS) ")");

static unsigned int max_user_jobs = COHBUF_IMP_DEFAULT_MAX_USER_JOBS;
module_param(max_user_jobs, uint, 0644);
MODULE_PARM_DESC(max_user_jobs,
		 "Unreaped jobs of all open files of a real uid without CAP_SYS_RESOURCE; SUBMIT fails with EBUSY beyond (default "
		 __stringify(COHBUF_IMP_DEFAULT_MAX_USER_JOBS) ")");

static unsigned int max_user_imports = COHBUF_IMP_DEFAULT_MAX_USER_IMPORTS;
module_param(max_user_imports, uint, 0644);
MODULE_PARM_DESC(max_user_imports,
		 "Live handles of all open files of a real uid without CAP_SYS_RESOURCE; IMPORT fails with EBUSY beyond (default "
		 __stringify(COHBUF_IMP_DEFAULT_MAX_USER_IMPORTS) ")");

static unsigned int max_user_streams = COHBUF_IMP_DEFAULT_MAX_USER_STREAMS;
module_param(max_user_streams, uint, 0644);
MODULE_PARM_DESC(max_user_streams,
		 "Streams of a real uid without CAP_SYS_RESOURCE, until each is released; STREAM_CREATE fails with EMFILE beyond (default "
		 __stringify(COHBUF_IMP_DEFAULT_MAX_USER_STREAMS) ")");

/* The limits of one kind, and the error for going beyond them. */
struct cohbuf_imp_kind_limits {
	const unsigned int *per_file;	/* NULL: one unit per file */
	const unsigned int *per_user;
	int err;
};

static const struct cohbuf_imp_kind_limits cohbuf_imp_kinds[COHBUF_IMP_NR_KINDS] = {
	[COHBUF_IMP_CONTEXT] = { NULL, &max_user_contexts, -EMFILE },
	[COHBUF_IMP_JOB] = { &max_jobs, &max_user_jobs, -EBUSY },
	[COHBUF_IMP_IMPORT] = { &max_imports, &max_user_imports, -EBUSY },
	/* Charged to the user alone: cohbuf_imp_stream_charge(). */
	[COHBUF_IMP_STREAM] = { NULL, &max_user_streams, -EMFILE },
};

/* The units charged to one real uid, over all its open files. */
struct cohbuf_imp_user {
	struct hlist_node node;		/* in cohbuf_imp_users */
	kuid_t uid;
	refcount_t ref;			/* one per context and per stream */
	unsigned int charged[COHBUF_IMP_NR_KINDS];
};

/*
 * Protects cohbuf_imp_users, every user's charged[] and every context's
 * charged[]; only ever held for a few instructions, and innermost.
 */
static DEFINE_SPINLOCK(cohbuf_imp_limits_lock);
static DEFINE_HASHTABLE(cohbuf_imp_users, 6);

static struct cohbuf_imp_user *cohbuf_imp_user_find(kuid_t uid)
{
	struct cohbuf_imp_user *u;

	lockdep_assert_held(&cohbuf_imp_limits_lock);
	hash_for_each_possible(cohbuf_imp_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/*
 * The user of @uid, with a new reference; made from @fresh if it has none
 * yet, else @fresh is freed.
 */
static struct cohbuf_imp_user *cohbuf_imp_user_get(kuid_t uid,
						   struct cohbuf_imp_user *fresh)
{
	struct cohbuf_imp_user *u;

	spin_lock(&cohbuf_imp_limits_lock);
	u = cohbuf_imp_user_find(uid);
	if (u) {
		refcount_inc(&u->ref);
	} else {
		u = fresh;
		fresh = NULL;
		u->uid = uid;
		refcount_set(&u->ref, 1);
		hash_add(cohbuf_imp_users, &u->node, __kuid_val(uid));
	}
	spin_unlock(&cohbuf_imp_limits_lock);
	kfree(fresh);
	return u;
}

/* Under the lock: a unit of @kind for @ctx, or the kind's errno. */
static int cohbuf_imp_charge_locked(struct cohbuf_imp_ctx *ctx,
				    enum cohbuf_imp_kind kind)
{
	const struct cohbuf_imp_kind_limits *k = &cohbuf_imp_kinds[kind];
	struct cohbuf_imp_user *u = ctx->user;

	lockdep_assert_held(&cohbuf_imp_limits_lock);
	if (k->per_file && ctx->charged[kind] >= READ_ONCE(*k->per_file))
		return k->err;
	if (!ctx->unlimited && u->charged[kind] >= READ_ONCE(*k->per_user))
		return k->err;
	ctx->charged[kind]++;
	u->charged[kind]++;
	return 0;
}

/**
 * cohbuf_imp_charge() - count one unit of a kind against a context
 * @ctx: the context, between cohbuf_imp_limits_attach() and _detach()
 * @kind: what the unit is
 *
 * Return: 0, or the errno of @kind (as listed in the uapi header) if the
 * file or its user already holds as many as its limit allows.
 */
int cohbuf_imp_charge(struct cohbuf_imp_ctx *ctx, enum cohbuf_imp_kind kind)
{
	int ret;

	spin_lock(&cohbuf_imp_limits_lock);
	ret = cohbuf_imp_charge_locked(ctx, kind);
	spin_unlock(&cohbuf_imp_limits_lock);
	return ret;
}

/**
 * cohbuf_imp_uncharge() - give back one unit from cohbuf_imp_charge()
 * @ctx: the context, before cohbuf_imp_limits_detach()
 * @kind: what the unit was
 */
void cohbuf_imp_uncharge(struct cohbuf_imp_ctx *ctx, enum cohbuf_imp_kind kind)
{
	spin_lock(&cohbuf_imp_limits_lock);
	if (!WARN_ON_ONCE(!ctx->charged[kind])) {
		ctx->charged[kind]--;
		ctx->user->charged[kind]--;
	}
	spin_unlock(&cohbuf_imp_limits_lock);
}

/* Drop a reference to @u; the last one unhashes it. Under the lock. */
static bool cohbuf_imp_user_put_locked(struct cohbuf_imp_user *u)
{
	lockdep_assert_held(&cohbuf_imp_limits_lock);
	if (!refcount_dec_and_test(&u->ref))
		return false;
	hash_del(&u->node);
	return true;
}

/**
 * cohbuf_imp_stream_charge() - count a new stream against its creator's user
 * @ctx: the context the stream is created from
 *
 * Return: the user, with a reference the stream holds until
 * cohbuf_imp_stream_uncharge(); or ERR_PTR(-EMFILE) if the user (without
 * CAP_SYS_RESOURCE when @ctx was opened) has max_user_streams streams.
 */
struct cohbuf_imp_user *cohbuf_imp_stream_charge(struct cohbuf_imp_ctx *ctx)
{
	const struct cohbuf_imp_kind_limits *k = &cohbuf_imp_kinds[COHBUF_IMP_STREAM];
	struct cohbuf_imp_user *u = ctx->user;

	spin_lock(&cohbuf_imp_limits_lock);
	if (!ctx->unlimited &&
	    u->charged[COHBUF_IMP_STREAM] >= READ_ONCE(*k->per_user)) {
		u = ERR_PTR(k->err);
	} else {
		u->charged[COHBUF_IMP_STREAM]++;
		refcount_inc(&u->ref);
	}
	spin_unlock(&cohbuf_imp_limits_lock);
	return u;
}

/**
 * cohbuf_imp_stream_uncharge() - give back a stream's unit and reference
 * @u: what cohbuf_imp_stream_charge() returned
 *
 * The user is forgotten if this was the last thing holding it.
 */
void cohbuf_imp_stream_uncharge(struct cohbuf_imp_user *u)
{
	bool last;

	spin_lock(&cohbuf_imp_limits_lock);
	if (!WARN_ON_ONCE(!u->charged[COHBUF_IMP_STREAM]))
		u->charged[COHBUF_IMP_STREAM]--;
	last = cohbuf_imp_user_put_locked(u);
	spin_unlock(&cohbuf_imp_limits_lock);
	if (last)
		kfree(u);
}

/**
 * cohbuf_imp_limits_attach() - charge a new context to its opener
 * @ctx: the context, not yet visible to anyone
 * @file: its file, whose credentials say who opened it
 *
 * Return: 0, -ENOMEM, or -EMFILE if the user has max_user_contexts open.
 */
int cohbuf_imp_limits_attach(struct cohbuf_imp_ctx *ctx, struct file *file)
{
	struct cohbuf_imp_user *fresh;
	int ret;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return -ENOMEM;
	ctx->user = cohbuf_imp_user_get(file->f_cred->uid, fresh);
	ctx->unlimited = file_ns_capable(file, &init_user_ns, CAP_SYS_RESOURCE);
	ret = cohbuf_imp_charge(ctx, COHBUF_IMP_CONTEXT);
	if (ret)
		cohbuf_imp_limits_detach(ctx);
	return ret;
}

/**
 * cohbuf_imp_limits_detach() - give back everything a context holds
 * @ctx: a context being closed, or failing to open
 *
 * Its user is forgotten with its last context.
 */
void cohbuf_imp_limits_detach(struct cohbuf_imp_ctx *ctx)
{
	struct cohbuf_imp_user *u = ctx->user;
	unsigned int i;

	spin_lock(&cohbuf_imp_limits_lock);
	for (i = 0; i < COHBUF_IMP_NR_KINDS; i++) {
		u->charged[i] -= ctx->charged[i];
		ctx->charged[i] = 0;
	}
	if (!cohbuf_imp_user_put_locked(u))
		u = NULL;
	spin_unlock(&cohbuf_imp_limits_lock);
	kfree(u);
	ctx->user = NULL;
}
