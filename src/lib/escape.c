// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "escape.h"

int escape__utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0; /* overlong, or a surrogate */
	if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return n;
}

/* Length of the valid UTF-8 sequence at s that is neither ASCII nor a C1 control, else 0. */
static int utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80 || (s[0] == 0xc2 && (s[1] & 0xc0) == 0x80 && s[1] < 0xa0))
		return 0; /* U+0080..U+009F: 8-bit CSI, OSC... to some terminals */
	return escape__utf8_len(s);
}

/* The next piece of s as it is printed, in piece (at least 5 bytes); its length in s. */
static int next_piece(const unsigned char *s, char *piece, int *len)
{
	static const char hex[] = "0123456789abcdef";
	int n;

	if (*s == '\\') {
		memcpy(piece, "\\\\", 2);
		*len = 2;
		return 1;
	}
	if (*s >= 0x20 && *s < 0x7f) {
		piece[0] = *s;
		*len = 1;
		return 1;
	}
	n = utf8_len(s);
	if (n) {
		memcpy(piece, s, n);
		*len = n;
		return n;
	}
	piece[0] = '\\';
	piece[1] = 'x';
	piece[2] = hex[*s >> 4];
	piece[3] = hex[*s & 15];
	*len = 4;
	return 1;
}

const char *escape__str(const char *str, char *buf, size_t size)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "?");
	size_t used = 0;
	char piece[8];
	int len;

	if (!size)
		return "";
	while (*s) {
		int n = next_piece(s, piece, &len);

		if (used + len >= size)
			break;
		memcpy(buf + used, piece, len);
		used += len;
		s += n;
	}
	buf[used] = '\0';
	return buf;
}

void escape__fputs(const char *str, FILE *out)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "?");
	char piece[8];
	int len;

	while (*s) {
		s += next_piece(s, piece, &len);
		fwrite(piece, 1, len, out);
	}
}
