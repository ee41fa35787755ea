/* pgarr: one-dimensional PostgreSQL arrays in the binary wire format, to
 * send as a binary parameter (no libpq here: bytes only).  The format:
 * ndim = 1, has-null flag, element type oid, length, lower bound 1, then
 * each element as its length (-1 for NULL) and its bytes, all integers
 * big-endian. */
#ifndef DECLARED_PGARR_H
#define DECLARED_PGARR_H

#include <stddef.h>
#include <stdint.h>

#define PGARR_OID_INT4 23
#define PGARR_OID_INT8 20
#define PGARR_OID_TEXT 25
#define PGARR_OID_BYTEA 17

struct pgarr {
	unsigned char *p;
	size_t len, cap;
	size_t max;   /* cap on len; 0 = 1 GB (PostgreSQL's own) */
};

/* Starts an array of n elements of type oid (keeps the buffer of an
 * earlier use); hint: bytes expected for the elements.  0, or -1. */
int pgarr_init(struct pgarr *a, unsigned oid, int n, size_t hint);
/* Appends one element; v NULL is SQL NULL.  0, or -1 past the cap. */
int pgarr_put(struct pgarr *a, const void *v, size_t len);
/* A string element without its NUL; NULL is SQL NULL. */
int pgarr_str(struct pgarr *a, const char *s);
/* An integer element of size bytes (4 for int4, 8 for int8). */
int pgarr_int(struct pgarr *a, int64_t v, size_t size);
/* Frees the buffer; the struct may be used again. */
void pgarr_free(struct pgarr *a);

#endif
