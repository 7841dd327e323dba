/*
 * A command's --help, in the one layout the man pages are made from (scripts/gen-man.sh reads
 * it back), so that --help and the man pages cannot disagree:
 *
 *    usage: lkvm SYNOPSIS
 *
 *    ABOUT, a paragraph with one space in front
 *
 *      TERM                          TEXT, its lines after the first indented to the text
 *      A TERM TOO LONG FOR ITS COLUMN
 *                                    TEXT on the lines after it
 *
 *    NOTES, a closing paragraph
 *
 * Lines are at most HELP_WIDTH columns, but for a word longer than that.
 */
#ifndef LKVM_HELP_H
#define LKVM_HELP_H

#include <stdio.h>

#define HELP_WIDTH	79

/* An option or an action of a command, and what it does. */
struct help_item {
	const char *term;
	const char *text;
};

struct help {
	const char *synopsis;		/* after "lkvm ", one line */
	const char *about;		/* a paragraph, or NULL */
	const struct help_item *items;	/* ended by a NULL term, or NULL */
	const char *notes;		/* a paragraph, or NULL */
};

void help__print(FILE *f, const struct help *h);
/* The parts, for a command that makes its items as it goes (lkvm run, lkvm itself). */
void help__usage(FILE *f, const char *synopsis, const char *about);
void help__item(FILE *f, const char *term, const char *text);
void help__para(FILE *f, const char *text);

#endif
