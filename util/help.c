/* --help in the layout of include/lkvm/help.h. */
#include "lkvm/help.h"

#include <string.h>

#define TERM_INDENT	3
#define TEXT_COLUMN	25

/*
 * text from column col (where the cursor is) to HELP_WIDTH, its later lines indented to indent,
 * breaking at spaces; a word longer than a line gets a line of its own.
 */
static void help__wrap(FILE *f, const char *text, unsigned int col, unsigned int indent)
{
	const char *p = text;

	while (*p) {
		size_t word = strcspn(p, " ");

		if (col > indent && col + 1 + word > HELP_WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)word, p);
		col += (unsigned int)word;
		p += word;
		p += strspn(p, " ");
	}
	fputc('\n', f);
}

void help__para(FILE *f, const char *text)
{
	if (!text)
		return;
	fputs("\n ", f);
	help__wrap(f, text, 1, 1);
}

void help__usage(FILE *f, const char *synopsis, const char *about)
{
	fprintf(f, " usage: lkvm %s\n", synopsis);
	help__para(f, about);
	fputc('\n', f);
}

/* Items follow one another with no blank line between: help__usage ended with one. */
void help__item(FILE *f, const char *term, const char *text)
{
	int len = fprintf(f, "%*s%s", TERM_INDENT, "", term);

	if (len + 2 > TEXT_COLUMN) {
		fprintf(f, "\n%*s", TEXT_COLUMN, "");
	} else {
		fprintf(f, "%*s", TEXT_COLUMN - len, "");
	}
	help__wrap(f, text, TEXT_COLUMN, TEXT_COLUMN);
}

void help__print(FILE *f, const struct help *h)
{
	help__usage(f, h->synopsis, h->about);
	for (const struct help_item *i = h->items; i && i->term; i++)
		help__item(f, i->term, i->text);
	help__para(f, h->notes);
}
