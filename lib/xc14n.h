/* xc14n: Exclusive XML Canonicalization 1.0 without comments and without
 * an InclusiveNamespaces prefix list (http://www.w3.org/2001/10/xml-exc-c14n#),
 * specialised for what signature verification needs: the whole document
 * minus one element subtree (the enveloped ds:Signature), or one element
 * subtree in place (ds:SignedInfo).
 *
 * The output is byte for byte what libxml2's
 * xmlC14NDocSaveTo(doc, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, buf) writes
 * for the document with the left-out subtree unlinked, or for a copy of the
 * subtree made the root of a document of its own.  No allocation: one fixed
 * output buffer and fixed-cap stacks, on the stack (about 17 KB).
 *
 * The tree is checked in full before the first byte is written: on
 * XC14N_UNSUPPORTED the callback was never called, so the caller can go
 * to libxml2's canonicalizer with the same sink. */
#ifndef DECLARED_XC14N_H
#define DECLARED_XC14N_H

#include <stddef.h>
#include <libxml/tree.h>

/* Something this canonicalizer does not handle: an entity reference or
 * XInclude node, a namespace URI libxml2 would refuse as relative (or one
 * this file cannot vouch for), a document not in UTF-8, nesting, attributes
 * or namespaces beyond the fixed caps, a tree no parser makes.  Distinct
 * from -1. */
#define XC14N_UNSUPPORTED (-2)

/* Receives the canonical bytes in order, in chunks of at most 8 KB.
 * 0 to go on, anything else to stop. */
typedef int (*xc14n_write_fn)(void *ctx, const unsigned char *buf, size_t len);

/* Canonical form of top (an xmlDocPtr cast to xmlNodePtr: the whole
 * document; an element: its subtree in place, namespaces taken from their
 * in-scope declarations) without the subtree of skip (NULL: nothing left
 * out), written through fn.  0; -1 when fn failed or on bad arguments;
 * XC14N_UNSUPPORTED (fn not called). */
int xc14n_write(xmlNodePtr top, xmlNodePtr skip, xc14n_write_fn fn, void *ctx);

#endif
