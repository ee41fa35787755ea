/* decl: the indexed fields of one declaration, extracted by a profile's
 * XPaths.  Plain data: rules and the database layer read it. */
#ifndef DECLARED_DECL_H
#define DECLARED_DECL_H

#include <stddef.h>

#define DECL_ID_MAX 72   /* identifiers: LRN (35), EORI (17), MRN (18) ... */
#define DECL_CODE_MAX 16 /* codes: type, function, country, currency, HS */
#define DECL_NUM_MAX 40  /* decimals kept as text, as in the document */
#define DECL_ITEMS_MAX 999

/* One field's value plus where it was found (for error pointers). */
struct decl_item {
	int seq;                      /* SequenceNumeric, 0 if absent */
	char hs[DECL_CODE_MAX];       /* Commodity/Classification/ID */
	char origin[DECL_CODE_MAX];   /* Origin/CountryCode */
	char gross[DECL_NUM_MAX];     /* GoodsMeasure/GrossMassMeasure */
	char net[DECL_NUM_MAX];       /* GoodsMeasure/NetNetWeightMeasure */
	char value[DECL_NUM_MAX];     /* CustomsValueAmount (or item charge) */
	char currency[DECL_CODE_MAX]; /* its currencyID */
	char path[160];               /* pointer to the item element */
};

struct decl {
	char lrn[DECL_ID_MAX];        /* FunctionalReferenceID */
	char declarant[DECL_ID_MAX];  /* Declarant/ID */
	char type[DECL_CODE_MAX];     /* TypeCode */
	char function[DECL_CODE_MAX]; /* FunctionCode: 9 original, 13 amendment, 1 cancellation */
	char ref_mrn[DECL_ID_MAX];    /* Declaration/ID: the MRN an amendment or cancellation refers to */
	char issued[DECL_NUM_MAX];    /* IssueDateTime as written */
	char importer[DECL_ID_MAX];
	char exporter[DECL_ID_MAX];
	char invoice_amount[DECL_NUM_MAX];
	char invoice_currency[DECL_CODE_MAX];
	int goods_item_quantity;      /* as declared; -1 if absent */
	size_t n_items;               /* items found */
	struct decl_item *items;      /* n_items entries, owned */
};

void decl_init(struct decl *d);
void decl_clear(struct decl *d);  /* frees items, back to empty */

/* PostgreSQL array literal of the distinct HS codes, "{8471300000,0901}".
 * Returns bytes written (without NUL) or -1 if cap is too small. */
int decl_hs_array(const struct decl *d, char *out, size_t cap);
/* The same for the distinct item origins, "{CN,DE}". */
int decl_origin_array(const struct decl *d, char *out, size_t cap);

#endif
