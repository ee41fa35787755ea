/* err: a bounded list of errors, each with a code, a message, a line and an
 * XPath pointer into the submitted document.  Every lib/ function that can
 * fail on input fills one of these instead of logging. */
#ifndef DECLARED_ERR_H
#define DECLARED_ERR_H

#include <stddef.h>

#define ERR_CODE_MAX 40
#define ERR_MSG_MAX 256
#define ERR_PTR_MAX 256
#define ERR_LIST_CAP 100 /* errors kept per document; more only counted */

struct err_item {
	char code[ERR_CODE_MAX];   /* e.g. "XML_MALFORMED", "XSD_INVALID" */
	char msg[ERR_MSG_MAX];     /* human readable, one line */
	char pointer[ERR_PTR_MAX]; /* XPath into the document, "" if none */
	int line;                  /* 1-based line in the document, 0 if none */
};

struct errs {
	struct err_item *v;
	size_t n, cap;
	size_t dropped; /* errors past ERR_LIST_CAP */
};

void err_init(struct errs *e);
void err_clear(struct errs *e);   /* frees storage, back to empty */
/* Adds one error; never fails (an allocation failure is counted in dropped). */
void err_add(struct errs *e, const char *code, int line, const char *pointer,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* First error's code, or NULL when the list is empty. */
const char *err_first_code(const struct errs *e);

#endif
