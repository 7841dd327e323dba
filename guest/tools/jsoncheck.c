/*
 * jsoncheck: a strict JSON reader for the system tests (the test host has no jq or python).
 *   jsoncheck            stdin is one JSON document (and a newline): prints it flattened
 *   jsoncheck --lines    stdin is JSON documents, one a line (lkvm events): the same, each
 *                        path prefixed with its line's number from 1
 * Flattened: one line per number, string, true, false or null, "PATH VALUE", PATH the keys and
 * indexes from the top joined by '.', "." for the top itself; strings as they were written
 * (quoted, escapes kept). An empty array or object prints "PATH []" or "PATH {}". Anything
 * malformed (or trailing) exits 1 with "jsoncheck: line L column C: why".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *p, *line_start;
static unsigned int line_no = 1;

static void bad(const char *why)
{
	fprintf(stderr, "jsoncheck: line %u column %u: %s\n", line_no,
		(unsigned int)(p - line_start) + 1, why);
	exit(1);
}

static void ws(void)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
}

/* A string token; returns its end (past the closing quote). */
static const char *string(void)
{
	const char *s = p + 1;

	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20) {
			p = s;
			bad("unterminated string or a control character in it");
		}
		if (*s != '\\')
			continue;
		s++;
		if (*s == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!isxdigit((unsigned char)s[i])) {
					p = s;
					bad("bad \\u escape");
				}
			s += 4;
		} else if (!strchr("\"\\/bfnrt", *s) || !*s) {
			p = s;
			bad("bad escape");
		}
	}
	return s + 1;
}

static const char *number(void)
{
	const char *s = p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (isdigit((unsigned char)*s))
		while (isdigit((unsigned char)*s))
			s++;
	else
		bad("not a value");
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			bad("bad fraction");
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			bad("bad exponent");
		while (isdigit((unsigned char)*s))
			s++;
	}
	return s;
}

static void value(const char *path);

static void member(const char *path, const char *key, size_t len, int index)
{
	char sub[512];

	if (key)
		snprintf(sub, sizeof(sub), "%s%s%.*s", strcmp(path, ".") ? path : "",
			 strcmp(path, ".") ? "." : "", (int)len, key);
	else
		snprintf(sub, sizeof(sub), "%s%s%d", strcmp(path, ".") ? path : "",
			 strcmp(path, ".") ? "." : "", index);
	value(sub);
}

/* An object or array: open is '{' or '['. */
static void container(const char *path, char open)
{
	char close = open == '{' ? '}' : ']';
	int n = 0;

	p++;
	ws();
	if (*p == close) {
		p++;
		printf("%s %c%c\n", path, open, close);
		return;
	}
	for (;; n++) {
		ws();
		if (open == '{') {
			const char *key = p + 1, *end;

			if (*p != '"')
				bad("expected a key");
			end = string();
			p = end;
			ws();
			if (*p++ != ':')
				bad("expected ':'");
			member(path, key, (size_t)(end - 1 - key), 0);
		} else {
			member(path, NULL, 0, n);
		}
		ws();
		if (*p == close) {
			p++;
			return;
		}
		if (*p++ != ',')
			bad("expected ',' or the end");
	}
}

static void value(const char *path)
{
	const char *end;

	ws();
	if (*p == '{' || *p == '[') {
		container(path, *p);
		return;
	}
	if (*p == '"')
		end = string();
	else if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		end = p + 4;
	else if (!strncmp(p, "false", 5))
		end = p + 5;
	else
		end = number();
	printf("%s %.*s\n", path, (int)(end - p), p);
	p = end;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	size_t len = fread(buf, 1, sizeof(buf) - 1, stdin);
	int lines = argc > 1 && !strcmp(argv[1], "--lines");

	if (len == sizeof(buf) - 1 || memchr(buf, '\0', len)) {
		fprintf(stderr, "jsoncheck: input too long or with a NUL\n");
		return 1;
	}
	p = line_start = buf;
	do {
		char top[16];

		snprintf(top, sizeof(top), lines ? "%u" : ".", line_no);
		value(top);
		ws();
		if (*p != '\n' || (!lines && p[1]))
			bad(*p ? "trailing text" : "no newline at the end");
		p++;
		line_start = p;
		line_no++;
	} while (lines && *p);
	return 0;
}
