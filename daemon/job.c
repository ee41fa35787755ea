#include "job.h"

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
	free(j->body);
	free(j->resp);
	free(j->resp2);
	free(j->errors_json);
	free(j->receipt);
	err_clear(&j->errs);
	decl_clear(&j->decl);
	free(j);
}
