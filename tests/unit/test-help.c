/*
 * --help's layout (util/help.c): the contract scripts/gen-man.sh, tests/check-man.sh and the
 * bash completion read --help by, so a change of it must show here first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/help.h"
#include "suites.h"

/* h as help__print prints it, in a buffer the caller frees. */
static char *print_help(const struct help *h)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	help__print(f, h);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

START_TEST(help_layout)
{
	const struct help h = {
		.synopsis = "cmd list|plug --name NAME [ID]",
		.about = "What it does, in a paragraph long enough to wrap at the seventy-ninth "
			 "column of the line.",
		.items = (const struct help_item[]){
			{ "list", "each vCPU" },
			{ "-d, --disk FILE[,ro][,direct]", "a term too long for its column" },
			{ "--name NAME", "the VM: a text that goes on past the width of a line, so "
					 "it wraps to the text column" },
			{ NULL },
		},
		.notes = "Closing words.",
	};
	char *out = print_help(&h);

	ck_assert_str_eq(out,
		" usage: lkvm cmd list|plug --name NAME [ID]\n"
		"\n"
		" What it does, in a paragraph long enough to wrap at the seventy-ninth column\n"
		" of the line.\n"
		"\n"
		"   list                  each vCPU\n"
		"   -d, --disk FILE[,ro][,direct]\n"
		"                         a term too long for its column\n"
		"   --name NAME           the VM: a text that goes on past the width of a line,\n"
		"                         so it wraps to the text column\n"
		"\n"
		" Closing words.\n");
	free(out);
}
END_TEST

/* A word longer than a line is not cut: it overflows on a line of its own. */
START_TEST(help_long_word)
{
	const struct help h = {
		.synopsis = "x",
		.items = (const struct help_item[]){
			{ "--json", "schema: {\"aaaaaaaaaaaaaaaaaaaa\":N,\"bbbbbbbbbbbbbbbbbbbbbbbb\":N,"
				    "\"cccccccccccc\":N} end" },
			{ NULL },
		},
	};
	char *out = print_help(&h);

	ck_assert_str_eq(out,
		" usage: lkvm x\n"
		"\n"
		"   --json                schema:\n"
		"                         "
		"{\"aaaaaaaaaaaaaaaaaaaa\":N,\"bbbbbbbbbbbbbbbbbbbbbbbb\":N,\"cccccccccccc\":N}\n"
		"                         end\n");
	free(out);
}
END_TEST

Suite *help_suite(void)
{
	Suite *s = suite_create("help");
	TCase *tc = tcase_create("help");

	tcase_add_test(tc, help_layout);
	tcase_add_test(tc, help_long_word);
	suite_add_tcase(s, tc);
	return s;
}
