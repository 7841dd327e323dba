#include "lkvm/init.h"
#include "lkvm/util.h"

#include <errno.h>
#include <string.h>

/* The registry is filled by constructors before main(), so it cannot live in a struct kvm. */
static struct init_item *levels[INIT_NR_LEVELS];

void init__register(struct init_item *item)
{
	struct init_item **p = &levels[item->level];

	/* Keep registration order within a level: link order decides, as with kvmtool. */
	while (*p)
		p = &(*p)->next;
	item->next = NULL;
	*p = item;
}

int init__run(struct kvm *kvm, struct init_done *done)
{
	for (int l = 0; l < INIT_NR_LEVELS; l++) {
		for (struct init_item *it = levels[l]; it; it = it->next) {
			unsigned int errors = log__errors();
			int err = -ENOSPC;

			if (done->nr == ARRAY_SIZE(done->items))
				pr_err("%s: too many VM parts registered", it->name);
			else
				err = it->init(kvm);	/* a failing init cleans up after itself */
			/* Whatever failed says so in one line, even a part that forgot to. */
			if (err && log__errors() == errors)
				pr_err("%s: cannot set it up: %s", it->name, strerror(-err));
			if (err) {
				init__exit(kvm, done);
				return err;
			}
			done->items[done->nr++] = it;
		}
	}
	return 0;
}

void init__exit(struct kvm *kvm, struct init_done *done)
{
	while (done->nr) {
		const struct init_item *it = done->items[--done->nr];

		if (it->exit)
			it->exit(kvm);
	}
}
