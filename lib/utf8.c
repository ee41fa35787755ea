#include "utf8.h"

size_t
utf8_cut(const char *s, size_t len)
{
	size_t i = len, need;
	unsigned char c;

	/* back over at most three continuation bytes to the lead byte */
	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80 && len - i < 3)
		i--;
	if (i == 0)
		return len;
	c = (unsigned char)s[i - 1];
	if (c < 0x80)
		return len;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return len - (i - 1) >= need ? len : i - 1;
}
