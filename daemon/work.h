/* work: what a worker thread does with a job, using lib/ only.  The env is
 * immutable while any job uses it (a reload builds a new one). */
#ifndef DECLARED_WORK_H
#define DECLARED_WORK_H

#include "config.h"
#include "job.h"
#include "profile.h"
#include "xmlp.h"

struct profile_set;
struct dsig_trust;
struct dsig_signer;
struct config;

struct rules;
struct risk;

/* Per profile: whether rules apply, and readable field locations. */
struct work_prof {
	const char *name;  /* owned */
	int apply_rules;
	char *ptr[PF_COUNT];
};

struct work_env {
	struct profile_set *profiles;
	struct dsig_trust *trust;
	struct dsig_signer *signer;
	struct rules *rules;
	struct risk *risk;
	struct xmlp_limits limits;
	char country[3];               /* MRN country */
	int auto_release;
	struct work_prof prof[CONFIG_MAX_PROFILES];
	size_t n_prof;
	int refs;      /* jobs holding it (loop thread only) */
	int retired;   /* replaced by a reload: freed at refs == 0 */
};

/* Builds the env from a loaded config; NULL with errors on failure. */
struct work_env *work_env_new(const struct config *cfg, struct errs *e);
void work_env_free(struct work_env *env); /* NULL ok */
/* Loop thread: a job takes and drops its env; a reload retires the old one,
 * which is freed when the last job holding it is freed. */
void work_env_ref(struct work_env *env);
void work_env_unref(struct work_env *env);
void work_env_retire(struct work_env *env);

/* Runs on a worker thread. */
void work_run(const struct work_env *env, struct job *j);

#endif
