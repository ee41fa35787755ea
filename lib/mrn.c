#include "mrn.h"

#include <stdio.h>
#include <string.h>

/* ISO 6346 values: digits as such, letters from 10 upwards skipping the
 * multiples of 11. */
static int
mrn_value(char c)
{
	int v;

	if (c >= '0' && c <= '9')
		return c - '0';
	if (c < 'A' || c > 'Z')
		return -1;
	v = 10 + (c - 'A');
	v += (v - 1) / 10; /* skip 11, 22, 33 */
	return v;
}

char
mrn_check_char(const char *s17)
{
	long sum = 0;
	int i, v;

	for (i = 0; i < MRN_LEN - 1; i++) {
		if ((v = mrn_value(s17[i])) < 0)
			return 0;
		sum += (long)v << i;
	}
	return (char)('0' + (sum % 11) % 10);
}

int
mrn_make(int year2, const char *country, int64_t id, char *out)
{
	char c;

	if (year2 < 0 || year2 > 99 || id < 0 || id > 9999999999999LL)
		return -1;
	if (country == NULL || strlen(country) != 2 ||
	    country[0] < 'A' || country[0] > 'Z' ||
	    country[1] < 'A' || country[1] > 'Z')
		return -1;
	snprintf(out, MRN_LEN + 1, "%02d%s%013lld", year2, country, (long long)id);
	if ((c = mrn_check_char(out)) == 0)
		return -1;
	out[MRN_LEN - 1] = c;
	out[MRN_LEN] = '\0';
	return 0;
}

int
mrn_valid(const char *s)
{
	int i;

	if (s == NULL || strlen(s) != MRN_LEN)
		return 0;
	for (i = 0; i < 2; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	for (i = 2; i < 4; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return 0;
	return mrn_check_char(s) == s[MRN_LEN - 1];
}
