/* gendecl: writes VALID declarations in the project's format
 * (xsd/declaration.xsd, urn:declared:declaration:1), unsigned, for tests,
 * the demo and the benchmark.  Deterministic per seed; libc only.
 *
 *   gendecl [--items N] [--lrn LRN] [--declarant ID] [--seed S]
 *           [--count K --out DIR]
 *
 * One document goes to stdout; with --count, K files DIR/decl-000001.xml
 * ... with LRNs LRN-000001 ... (LRN = --lrn, default "LRN"), file i made
 * with seed S+i-1 (so file i equals `gendecl --seed S+i-1` but for its LRN).
 * Item values sum exactly to InvoiceAmount; net mass <= gross mass. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NS "urn:declared:declaration:1"
#define ISSUED "2026-03-02T10:15:00Z"
#define ITEMS_MAX 999
#define COUNT_MAX 999999
#define LRN_MAX 35
#define DOC_MAX (8u << 20) /* a 999-item document is ~0.9 MB */

/* ---- output buffer ---- */

struct sb {
	char *p;
	size_t n, cap;
	int oom;
};

static void
sb_reserve(struct sb *b, size_t more)
{
	size_t ncap;
	char *np;

	if (b->oom || b->n + more + 1 <= b->cap)
		return;
	ncap = b->cap ? b->cap : 16384;
	while (ncap < b->n + more + 1)
		ncap *= 2;
	if (ncap > DOC_MAX || (np = realloc(b->p, ncap)) == NULL) {
		b->oom = 1;
		return;
	}
	b->p = np;
	b->cap = ncap;
}

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	sb_reserve(b, 256);
	if (b->oom)
		return;
	va_start(ap, fmt);
	k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (k < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)k >= b->cap - b->n) {
		sb_reserve(b, (size_t)k);
		if (b->oom)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
	}
	b->n += (size_t)k;
}

/* Appends s with XML text escaping. */
static void
sb_text(struct sb *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': sb_printf(b, "&amp;"); break;
		case '<': sb_printf(b, "&lt;"); break;
		case '>': sb_printf(b, "&gt;"); break;
		default:
			sb_reserve(b, 1);
			if (b->oom)
				return;
			b->p[b->n++] = *s;
		}
	}
}

/* <name>text</name> at the given indentation level (2 spaces each). */
static void
sb_elem(struct sb *b, int lvl, const char *name, const char *text)
{
	sb_printf(b, "%*s<%s>", 2 * lvl, "", name);
	sb_text(b, text);
	sb_printf(b, "</%s>\n", name);
}

/* ---- deterministic randomness (splitmix64) ---- */

struct rng {
	uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint64_t
rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(r) % (hi - lo + 1);
}

#define PICK(r, arr) (&(arr)[rng_next(r) % (sizeof(arr) / sizeof((arr)[0]))])

/* ---- reference data ---- */

struct goods {
	const char *hs;       /* national tariff code (6, 8 or 10 digits) */
	const char *text;     /* tariff description */
	unsigned min_g, max_g;/* gross mass of one item line, grams */
	unsigned cents_kg;    /* typical customs value per kg of net mass */
};

static const struct goods goods[] = {
	{ "8471300000", "Portable automatic data processing machines, weighing not more than 10 kg, consisting of at least a central processing unit, a keyboard and a display", 20000, 900000, 30000 },
	{ "8517130000", "Smartphones for cellular networks, with touch screen, dual SIM", 5000, 300000, 150000 },
	{ "8517620000", "Machines for the reception, conversion and transmission of data: wireless routers and switches", 8000, 400000, 12000 },
	{ "8528721000", "Reception apparatus for television, colour, with LCD screen, 55 inch diagonal", 100000, 2500000, 1800 },
	{ "8507600000", "Lithium-ion accumulators for portable equipment, 3.7 V, 5000 mAh", 10000, 800000, 2500 },
	{ "85414300", "Photovoltaic cells assembled in modules or made up into panels, monocrystalline, 410 W", 500000, 9000000, 180 },
	{ "8523510000", "Solid-state non-volatile storage devices (USB flash drives), 128 GB", 2000, 60000, 40000 },
	{ "847330", "Parts and accessories of automatic data processing machines: keyboards and power adapters", 10000, 500000, 2200 },
	{ "6109100010", "T-shirts, singlets and other vests of cotton, knitted or crocheted, for men or boys", 30000, 1200000, 1600 },
	{ "6203424100", "Men's trousers and breeches of cotton, of denim, not knitted", 40000, 1500000, 1400 },
	{ "6403999800", "Footwear with outer soles of rubber and uppers of leather, not covering the ankle", 30000, 900000, 2600 },
	{ "4202210000", "Handbags with outer surface of leather or of composition leather", 10000, 300000, 9000 },
	{ "0901210000", "Coffee, roasted, not decaffeinated, in beans, in bags of 1 kg", 200000, 9000000, 900 },
	{ "0902300000", "Black tea (fermented), in immediate packings of a content not exceeding 3 kg", 50000, 2000000, 1100 },
	{ "1806320000", "Chocolate in blocks, slabs or bars, not filled", 100000, 4000000, 650 },
	{ "2204210600", "Wine of fresh grapes, in containers holding 2 litres or less, with protected designation of origin", 300000, 10000000, 700 },
	{ "0306171000", "Frozen shrimps and prawns, peeled, in cartons of 10 kg", 500000, 12000000, 950 },
	{ "0805102200", "Fresh sweet oranges, navel, in boxes of 15 kg", 1000000, 20000000, 90 },
	{ "9403609000", "Wooden furniture of a kind used in the bedroom: wardrobes and chests of drawers", 300000, 8000000, 350 },
	{ "9401710000", "Upholstered seats with metal frames: office chairs with armrests", 200000, 5000000, 600 },
	{ "9503007000", "Toys put up in sets: construction sets of plastics for children of 6 years and over", 50000, 2000000, 1200 },
	{ "9506911000", "Articles and equipment for general physical exercise: exercise bicycles and treadmills", 300000, 6000000, 500 },
	{ "3926909790", "Other articles of plastics: storage boxes with lids, polypropylene", 100000, 3000000, 300 },
	{ "4011100090", "New pneumatic tyres, of rubber, of a kind used on motor cars, 205/55 R16", 500000, 12000000, 450 },
	{ "7323930000", "Table and kitchen articles of stainless steel: cookware sets", 100000, 3000000, 800 },
	{ "8415101000", "Air conditioning machines, self-contained, window or wall type, 3.5 kW", 300000, 6000000, 700 },
	{ "8418108000", "Combined refrigerator-freezers with separate external doors, 300 litres", 600000, 9000000, 450 },
	{ "8450111100", "Household washing machines, fully automatic, front loading, capacity 8 kg", 600000, 9000000, 420 },
	{ "8712003000", "Bicycles without motor, with ball bearings, aluminium frame", 150000, 4000000, 900 },
	{ "8711601000", "Cycles with pedal assistance and auxiliary electric motor of 250 W", 200000, 5000000, 2200 },
	{ "9004901000", "Spectacles and goggles, correcting, protective: safety goggles", 5000, 200000, 6000 },
	{ "9102110000", "Wrist-watches, battery operated, with mechanical display only", 2000, 80000, 90000 },
	{ "30049000", "Medicaments put up in measured doses for retail sale: paracetamol tablets 500 mg", 20000, 1000000, 2500 },
	{ "3304990000", "Beauty or make-up preparations and preparations for the care of the skin", 20000, 1000000, 3500 },
	{ "4820102000", "Notebooks, letter pads and memorandum pads, of paper", 100000, 3000000, 250 },
	{ "6911100000", "Tableware and kitchenware of porcelain or china: dinner sets", 100000, 3000000, 500 },
	{ "7013490000", "Glassware of a kind used for table or kitchen purposes, of toughened glass", 100000, 3000000, 300 },
	{ "880622", "Unmanned aircraft (drones) with maximum take-off weight above 250 g but not exceeding 7 kg", 10000, 400000, 40000 },
	{ "8516608000", "Ovens, cookers, cooking plates, hobs: induction hobs for domestic use", 150000, 4000000, 700 },
	{ "7308909900", "Structures and parts of structures of iron or steel: scaffolding components", 1000000, 20000000, 120 },
};

struct place {
	const char *country;
	const char *locode;    /* port or airport of loading */
	const char *name, *line, *city, *postcode;
};

static const struct place exporters[] = {
	{ "CN", "CNSZX", "Shenzhen Huaxing Electronics Co., Ltd.", "No. 88 Keji South Road, Nanshan District", "Shenzhen", "518057" },
	{ "CN", "CNSHA", "Shanghai Everbright Trading Co., Ltd.", "1500 Century Avenue, Pudong New Area", "Shanghai", "200122" },
	{ "CN", "CNNGB", "Ningbo Haitian Homeware Manufacturing Co.", "27 Beilun Port Road", "Ningbo", "315800" },
	{ "VN", "VNSGN", "Saigon Garment Manufacturing JSC", "236 Nguyen Van Luong, District 6", "Ho Chi Minh City", "700000" },
	{ "IN", "INCOK", "Malabar Spice & Tea Exports Pvt Ltd", "41/2 Willingdon Island", "Kochi", "682003" },
	{ "US", "USSAV", "Blue Ridge Outfitters Inc.", "1200 Commerce Boulevard", "Savannah", "31401" },
	{ "TR", "TRIST", "Anatolia Textile Sanayi A.S.", "Organize Sanayi Bolgesi 4. Cadde No 12", "Istanbul", "34555" },
	{ "JP", "JPYOK", "Kanagawa Precision Instruments K.K.", "2-3-1 Minatomirai, Nishi-ku", "Yokohama", "2208501" },
	{ "KR", "KRPUS", "Haeundae Components Co., Ltd.", "55 Jungang-daero, Jung-gu", "Busan", "48939" },
	{ "BR", "BRSSZ", "Cafe Alto Mogiana Exportadora Ltda", "Rua do Comercio 410", "Santos", "11010141" },
	{ "TW", "TWKHH", "Formosa Cycle Works Co., Ltd.", "No. 9 Zhonghua 5th Road", "Kaohsiung", "806" },
	{ "IT", "ITGOA", "Cantine Riviera Ligure S.r.l.", "Via XX Settembre 33", "Genova", "16121" },
};

static const struct place importers[] = {
	{ "GB", "", "Thameside Retail Distribution Ltd", "Unit 4, Riverside Industrial Estate", "Dartford", "DA1 5PJ" },
	{ "GB", "", "Pennine Home & Garden Supplies Ltd", "12 Canal Street", "Manchester", "M1 3HE" },
	{ "GB", "", "Northgate Electronics (UK) Ltd", "Building 7, Harbour Park", "Southampton", "SO14 3TG" },
	{ "GB", "", "Caledonian Fine Foods Ltd", "88 West George Street", "Glasgow", "G2 1PJ" },
	{ "GB", "", "Severn Valley Cycles Ltd", "3 Mill Lane", "Worcester", "WR1 2QS" },
};

static const char *const brands[] = {
	"Norvane", "Kestrel", "Altamira", "Bluecrest", "Sunward", "Ironleaf",
	"Meridian", "Quillon", "Harbourline", "Zephyra", "Corvid", "Lumenta",
};

static const char *const packages[] = {
	"cartons", "cases", "crates", "pallets",
};

static const char *const currencies[] = { "GBP", "EUR", "USD" };

static const char *const origins_other[] = {
	"CN", "VN", "IN", "TR", "MY", "TH", "BD", "ID", "MX", "DE", "PL", "US",
};

/* ---- document ---- */

struct opts {
	int items;
	const char *lrn;
	const char *declarant;
	unsigned long long seed;
	long count;
	const char *out;
};

static void
fmt_fixed(char *out, size_t cap, uint64_t v, unsigned scale_digits)
{
	uint64_t div = scale_digits == 2 ? 100 : 1000;

	snprintf(out, cap, "%llu.%0*llu", (unsigned long long)(v / div),
	    (int)scale_digits, (unsigned long long)(v % div));
}

static void
gen_party(struct sb *b, const char *tag, const struct place *p, const char *id)
{
	sb_printf(b, "  <%s>\n", tag);
	sb_elem(b, 2, "Name", p->name);
	sb_elem(b, 2, "ID", id);
	sb_printf(b, "    <Address>\n");
	sb_elem(b, 3, "Line", p->line);
	sb_elem(b, 3, "CityName", p->city);
	sb_elem(b, 3, "PostcodeID", p->postcode);
	sb_elem(b, 3, "CountryCode", p->country);
	sb_printf(b, "    </Address>\n  </%s>\n", tag);
}

static void
gen_item(struct sb *b, struct rng *r, int seq, const char *cur,
    const char *main_origin, uint64_t *total_cents)
{
	const struct goods *g = PICK(r, goods);
	const char *origin = rng_range(r, 0, 9) < 7 ? main_origin : *PICK(r, origins_other);
	uint64_t gross = rng_range(r, g->min_g, g->max_g);
	uint64_t net = gross * rng_range(r, 80, 97) / 100;
	uint64_t cents, units = rng_range(r, 2, 400);
	char desc[512], num[40];

	if (net == 0)
		net = 1;
	/* value = net kg * price per kg, +-30 % */
	cents = net * g->cents_kg / 1000 * rng_range(r, 70, 130) / 100;
	if (cents == 0)
		cents = 1;
	*total_cents += cents;
	snprintf(desc, sizeof(desc),
	    "%s; brand %s, model %c%c-%llu; %llu units packed in %llu %s; "
	    "supplier order PO-%llu, lot %llu",
	    g->text, *PICK(r, brands), (int)('A' + rng_range(r, 0, 25)),
	    (int)('A' + rng_range(r, 0, 25)),
	    (unsigned long long)rng_range(r, 100, 9999),
	    (unsigned long long)units,
	    (unsigned long long)(units / rng_range(r, 1, 12) + 1), *PICK(r, packages),
	    (unsigned long long)rng_range(r, 100000, 999999),
	    (unsigned long long)rng_range(r, 1000, 99999));

	sb_printf(b, "    <GovernmentAgencyGoodsItem>\n");
	sb_printf(b, "      <SequenceNumeric>%d</SequenceNumeric>\n", seq);
	fmt_fixed(num, sizeof(num), cents, 2);
	sb_printf(b, "      <CustomsValueAmount currencyID=\"%s\">%s</CustomsValueAmount>\n",
	    cur, num);
	sb_printf(b, "      <Commodity>\n");
	sb_elem(b, 4, "Description", desc);
	sb_printf(b, "        <Classification>\n");
	sb_elem(b, 5, "ID", g->hs);
	sb_elem(b, 5, "IdentificationTypeCode", strlen(g->hs) == 6 ? "TSP" : "TRC");
	sb_printf(b, "        </Classification>\n        <GoodsMeasure>\n");
	fmt_fixed(num, sizeof(num), gross, 3);
	sb_printf(b, "          <GrossMassMeasure unitCode=\"KGM\">%s</GrossMassMeasure>\n", num);
	fmt_fixed(num, sizeof(num), net, 3);
	sb_printf(b, "          <NetNetWeightMeasure unitCode=\"KGM\">%s</NetNetWeightMeasure>\n", num);
	sb_printf(b, "        </GoodsMeasure>\n      </Commodity>\n");
	sb_printf(b, "      <Origin>\n");
	sb_elem(b, 4, "CountryCode", origin);
	sb_printf(b, "      </Origin>\n    </GovernmentAgencyGoodsItem>\n");
}

/* Builds one document into b.  The items are written first into their own
 * buffer because InvoiceAmount (their sum) comes before them. */
static int
gen_doc(struct sb *b, const struct opts *o, const char *lrn, uint64_t seed)
{
	struct rng r = { seed };
	struct sb items = { 0 };
	const struct place *exp = PICK(&r, exporters);
	const struct place *imp = PICK(&r, importers);
	const char *cur = *PICK(&r, currencies);
	uint64_t total = 0;
	char id[40], num[40];
	int i, sea = rng_range(&r, 0, 3) != 0;

	b->n = 0;
	for (i = 1; i <= o->items; i++)
		gen_item(&items, &r, i, cur, exp->country, &total);
	if (items.oom) {
		free(items.p);
		return -1;
	}
	sb_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	sb_printf(b, "<Declaration xmlns=\"%s\">\n", NS);
	sb_elem(b, 1, "FunctionCode", "9");
	sb_elem(b, 1, "FunctionalReferenceID", lrn);
	sb_elem(b, 1, "TypeCode", "IMA");
	sb_elem(b, 1, "IssueDateTime", ISSUED);
	sb_printf(b, "  <GoodsItemQuantity>%d</GoodsItemQuantity>\n", o->items);
	fmt_fixed(num, sizeof(num), total, 2);
	sb_printf(b, "  <InvoiceAmount currencyID=\"%s\">%s</InvoiceAmount>\n", cur, num);
	if (rng_range(&r, 0, 1))
		sb_printf(b, "  <AdditionalInformation>Sale contract SC-%llu, "
		    "Incoterms 2020 CIF, payment 60 days</AdditionalInformation>\n",
		    (unsigned long long)rng_range(&r, 10000, 99999));
	sb_printf(b, "  <Declarant>\n");
	sb_elem(b, 2, "ID", o->declarant);
	sb_printf(b, "  </Declarant>\n  <Agent>\n");
	sb_elem(b, 2, "ID", o->declarant);
	sb_elem(b, 2, "FunctionCode", "2");
	sb_printf(b, "  </Agent>\n");
	snprintf(id, sizeof(id), "%s%013llu", exp->country,
	    (unsigned long long)rng_range(&r, 1000000000ULL, 9999999999999ULL));
	gen_party(b, "Exporter", exp, id);
	snprintf(id, sizeof(id), "GB%012llu",
	    (unsigned long long)rng_range(&r, 100000000000ULL, 999999999999ULL));
	gen_party(b, "Importer", imp, id);
	sb_printf(b, "  <GoodsShipment>\n    <Consignment>\n      <ArrivalTransportMeans>\n");
	if (sea)
		snprintf(id, sizeof(id), "IMO%07llu",
		    (unsigned long long)rng_range(&r, 9000000, 9899999));
	else
		snprintf(id, sizeof(id), "%c%c%04llu",
		    (int)('A' + rng_range(&r, 0, 25)), (int)('A' + rng_range(&r, 0, 25)),
		    (unsigned long long)rng_range(&r, 1, 9999));
	sb_elem(b, 4, "ID", id);
	sb_elem(b, 4, "ModeCode", sea ? "1" : "4");
	sb_printf(b, "      </ArrivalTransportMeans>\n      <LoadingLocation>\n");
	sb_elem(b, 4, "ID", exp->locode);
	sb_printf(b, "      </LoadingLocation>\n    </Consignment>\n");
	sb_reserve(b, items.n);
	if (!b->oom) {
		memcpy(b->p + b->n, items.p, items.n);
		b->n += items.n;
	}
	free(items.p);
	sb_printf(b, "  </GoodsShipment>\n</Declaration>\n");
	return b->oom ? -1 : 0;
}

/* ---- command line ---- */

static int
valid_lrn(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > LRN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z');

		if (!alnum && (i == 0 || strchr("-_/.", c) == NULL))
			return 0;
	}
	return 1;
}

static int
valid_party(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 3 || n > 17)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int up = c >= 'A' && c <= 'Z';
		int alnum = up || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');

		if (i < 2 ? !up : !alnum)
			return 0;
	}
	return 1;
}

static int
num_arg(const char *s, long long lo, long long hi, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *v >= lo && *v <= hi;
}

static void
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "gendecl: %s\n", why);
	fprintf(stderr, "usage: gendecl [--items N (1..%d, default 20)] [--lrn LRN] "
	    "[--declarant ID] [--seed S] [--count K --out DIR]\n", ITEMS_MAX);
	exit(2);
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	long long v;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (val == NULL)
			usage("option without a value");
		if (strcmp(a, "--items") == 0 && num_arg(val, 1, ITEMS_MAX, &v))
			o->items = (int)v;
		else if (strcmp(a, "--lrn") == 0)
			o->lrn = val;
		else if (strcmp(a, "--declarant") == 0 && valid_party(val))
			o->declarant = val;
		else if (strcmp(a, "--seed") == 0 && num_arg(val, 0, LLONG_MAX, &v))
			o->seed = (unsigned long long)v;
		else if (strcmp(a, "--count") == 0 && num_arg(val, 1, COUNT_MAX, &v))
			o->count = (long)v;
		else if (strcmp(a, "--out") == 0)
			o->out = val;
		else {
			fprintf(stderr, "gendecl: bad option or value: %s %s\n", a, val);
			usage(NULL);
		}
		i++;
	}
	if ((o->count > 0) != (o->out != NULL))
		usage("--count and --out go together");
	if (o->lrn != NULL && o->count > 0 && strlen(o->lrn) > LRN_MAX - 7)
		usage("--lrn with --count: at most 28 characters"); /* + "-000001" */
}

static int
write_file(const char *path, const struct sb *b)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL) {
		fprintf(stderr, "gendecl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(b->p, 1, b->n, f) == b->n;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok)
		fprintf(stderr, "gendecl: %s: write failed\n", path);
	return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct opts o = { 20, NULL, "GB000000000001", 1, 0, NULL };
	struct sb b = { 0 };
	char lrn[LRN_MAX + 8], path[4096];
	int rc = 1;
	long i;

	parse_args(argc, argv, &o);
	if (o.count == 0) {
		if (o.lrn != NULL)
			snprintf(lrn, sizeof(lrn), "%s", o.lrn);
		else
			snprintf(lrn, sizeof(lrn), "LRN-%06llu", o.seed % 1000000000000ULL);
		if (!valid_lrn(lrn))
			usage("--lrn: 1-35 of A-Z a-z 0-9 - _ / . (starting alphanumeric)");
		if (gen_doc(&b, &o, lrn, o.seed) != 0)
			goto done;
		if (fwrite(b.p, 1, b.n, stdout) != b.n || fflush(stdout) != 0)
			goto done;
		rc = 0;
		goto done;
	}
	if (mkdir(o.out, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "gendecl: %s: %s\n", o.out, strerror(errno));
		goto done;
	}
	for (i = 1; i <= o.count; i++) {
		snprintf(lrn, sizeof(lrn), "%s-%06ld", o.lrn ? o.lrn : "LRN", i);
		if (!valid_lrn(lrn))
			usage("--lrn: A-Z a-z 0-9 - _ / . (starting alphanumeric)");
		if ((size_t)snprintf(path, sizeof(path), "%s/decl-%06ld.xml", o.out, i) >=
		    sizeof(path))
			usage("--out: path too long");
		if (gen_doc(&b, &o, lrn, o.seed + (uint64_t)i - 1) != 0 ||
		    write_file(path, &b) != 0)
			goto done;
	}
	rc = 0;
done:
	if (rc != 0 && b.oom)
		fprintf(stderr, "gendecl: out of memory\n");
	free(b.p);
	return rc;
}
