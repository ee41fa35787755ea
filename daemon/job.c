#include "job.h"
#include "work.h"

#include <stdlib.h>

struct job *
job_new(enum job_kind kind)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->kind = kind;
	err_init(&j->errs);
	decl_init(&j->decl);
	return j;
}

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	work_env_unref(j->env);
	free(j->body);
	free(j->resp);
	free(j->resp2);
	free(j->resp3);
	free(j->errors_json);
	free(j->receipt);
	err_clear(&j->errs);
	decl_clear(&j->decl);
	free(j);
}
