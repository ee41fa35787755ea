/* ceiling sign: signs every *.xml of a directory with lib/dsig, in threads. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "ceiling.h"
#include "dsig.h"
#include "err.h"

struct ceil_signjob {
	const struct dsig_signer *s;
	const char *in, *out, *prefix;
	char **names;
	size_t n, next;
	pthread_mutex_t mu;
	int failed;
};

static int
ceil_sign_one(struct ceil_signjob *j, const char *name)
{
	char path[4096], tmp[4096], dst[4096], *buf = NULL;
	xmlChar *mem = NULL;
	xmlDocPtr doc = NULL;
	struct errs e;
	size_t len;
	int sz = 0, fd = -1, rc = -1;

	err_init(&e);
	snprintf(path, sizeof(path), "%s/%s", j->in, name);
	snprintf(dst, sizeof(dst), "%s/%s%s", j->out, j->prefix, name);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s%s", j->out, j->prefix, name);
	if (ceil_read(path, &buf, &len) != 0 || len > (size_t)INT32_MAX)
		goto done;
	if ((doc = xmlReadMemory(buf, (int)len, NULL, NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING)) == NULL)
		goto done;
	if (dsig_sign(j->s, doc, &e) != 0) {
		ceil_errs(name, &e);
		goto done;
	}
	xmlDocDumpMemoryEnc(doc, &mem, &sz, "UTF-8");
	if (mem == NULL || sz <= 0)
		goto done;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    write(fd, mem, (size_t)sz) != (ssize_t)sz || close(fd) != 0) {
		fd = -1;
		goto done;
	}
	fd = -1;
	if (rename(tmp, dst) != 0)
		goto done;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		fprintf(stderr, "ceiling: cannot sign %s\n", path);
	xmlFree(mem);
	xmlFreeDoc(doc);
	free(buf);
	err_clear(&e);
	return rc;
}

static void *
ceil_sign_thread(void *arg)
{
	struct ceil_signjob *j = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&j->mu);
		i = j->next < j->n && !j->failed ? j->next++ : j->n;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			return NULL;
		if (ceil_sign_one(j, j->names[i]) != 0) {
			pthread_mutex_lock(&j->mu);
			j->failed = 1;
			pthread_mutex_unlock(&j->mu);
		}
	}
}

int
ceil_sign(const char *cert, const char *key, long jobs, const char *prefix,
    const char *in, const char *out)
{
	struct ceil_signjob j;
	pthread_t th[64];
	struct errs e;
	long t, started = 0;
	size_t i;
	int rc = 1;

	memset(&j, 0, sizeof(j));
	err_init(&e);
	pthread_mutex_init(&j.mu, NULL);
	j.in = in;
	j.out = out;
	j.prefix = prefix;
	if ((j.s = dsig_signer_new(key, cert, &e)) == NULL) {
		ceil_errs(key, &e);
		goto done;
	}
	if ((j.names = ceil_list(in, CEIL_FILES_MAX, &j.n)) == NULL)
		goto done;
	for (t = 0; t < jobs && t < 64; t++)
		if (pthread_create(&th[t], NULL, ceil_sign_thread, &j) == 0)
			started++;
	for (t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	if (started == 0 || j.failed)
		goto done;
	printf("ceiling: signed %zu files into %s\n", j.n, out);
	rc = 0;
done:
	for (i = 0; j.names != NULL && i < j.n; i++)
		free(j.names[i]);
	free(j.names);
	dsig_signer_free((struct dsig_signer *)j.s);
	pthread_mutex_destroy(&j.mu);
	err_clear(&e);
	return rc;
}
