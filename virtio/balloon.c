/*
 * virtio-balloon (device id 5), with --balloon. `lkvm balloon` sets the target (num_pages, in 4K
 * pages); the guest's driver puts that many pages in the balloon, sends their numbers on the
 * inflate queue and reports the count in actual. Guest RAM is private anonymous memory, so
 * madvise(MADV_DONTNEED) really gives an inflated page back to the host, and a deflated one faults
 * back in (zeroed) when the guest touches it: deflating needs no work but bookkeeping.
 *
 * With VIRTIO_BALLOON_F_STATS_VQ the driver sends its memory statistics on a third queue and
 * lkvm keeps the buffer; `lkvm balloon` shows the last statistics and hands the buffer back,
 * which asks the guest for fresh ones.
 *
 * No VIRTIO_BALLOON_F_DEFLATE_ON_OOM: the balloon is taken out of the guest's RAM (Linux's
 * MemTotal shrinks), instead of being a loan the guest takes back when it runs short.
 */
#include "lkvm/init.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/virtio-balloon.h"
#include "lkvm/virtio.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/virtio_balloon.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { BALLOON_INFLATEQ, BALLOON_DEFLATEQ, BALLOON_STATSQ, BALLOON_NR_QUEUES };

/* num_pages and actual: the fields of struct virtio_balloon_config that no feature gates. */
#define BALLOON_CONFIG_SIZE	8
#define BALLOON_ACTUAL		4	/* its offset: the driver's only field */
#define BALLOON_BATCH		256	/* PFNs copied out of the guest at a time, as Linux sends */
#define STAT_SIZE		10	/* struct virtio_balloon_stat: le16 tag, le64 val, packed */
#define STATS_MAX		32	/* entries read from one buffer: more than a driver sends */

/* The statistics lkvm shows, by tag; sizes in bytes are shown in kB. */
static const struct {
	const char *name;
	bool bytes;
} stat_names[] = {
	[VIRTIO_BALLOON_S_SWAP_IN] = { "swap-in", false },
	[VIRTIO_BALLOON_S_SWAP_OUT] = { "swap-out", false },
	[VIRTIO_BALLOON_S_MAJFLT] = { "major-faults", false },
	[VIRTIO_BALLOON_S_MINFLT] = { "minor-faults", false },
	[VIRTIO_BALLOON_S_MEMFREE] = { "free", true },
	[VIRTIO_BALLOON_S_MEMTOT] = { "total", true },
	[VIRTIO_BALLOON_S_AVAIL] = { "available", true },
	[VIRTIO_BALLOON_S_CACHES] = { "caches", true },
	[VIRTIO_BALLOON_S_HTLB_PGALLOC] = { "hugetlb-allocs", false },
	[VIRTIO_BALLOON_S_HTLB_PGFAIL] = { "hugetlb-fails", false },
};

#define NR_STATS ARRAY_SIZE(stat_names)

/* The guest's last statistics and the buffer they came in: under the stats queue's lock. */
struct balloon_stats {
	bool held;			/* lkvm has the guest's buffer: head */
	u16 head;
	u32 seen;			/* a bit per tag the guest sent */
	u64 val[NR_STATS];
	u64 when_ns;			/* clock__now_ns(); 0: none yet */
};

struct virtio_balloon {
	struct virtio_dev vdev;
	struct virtq vqs[BALLOON_NR_QUEUES];
	struct virtq_chain chains[BALLOON_NR_QUEUES];	/* each under its queue's lock */

	struct balloon_stats stats;

	/* The config space, under vdev.lock. */
	u32 num_pages;			/* the target: lkvm's */
	u32 actual;			/* the guest's count */

	/* Which 4K pages of guest RAM are in the balloon: under lock (both queues use it). */
	pthread_mutex_t lock;
	u64 *held;			/* a bit per 4K page */
	u64 nr_pages;			/* guest RAM in 4K pages */
	u64 nr_held;
	/* 4K pages per host page: a host page goes back once all of them are held. 0: never. */
	u64 host_group;

	/* A guest can repeat its mistakes forever: each kind reaches the log once. */
	_Atomic unsigned int warned_pfn, warned_len, warned_config, warned_madvise, warned_stats;
};

static struct virtio_balloon *to_balloon(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_balloon, vdev);
}

/* --- config space --- */

static void balloon__config_read(struct virtio_dev *vdev, u32 offset, u8 *data, unsigned int len)
{
	struct virtio_balloon *b = to_balloon(vdev);
	u8 cfg[BALLOON_CONFIG_SIZE];

	memset(data, 0, len);
	if (offset > sizeof(cfg) || len > sizeof(cfg) - offset)
		return;
	put_le32(cfg, b->num_pages);
	put_le32(cfg + BALLOON_ACTUAL, b->actual);
	memcpy(data, cfg + offset, len);
}

/* The driver may write actual, in any width that stays within it; num_pages is read-only. */
static void balloon__config_write(struct virtio_dev *vdev, u32 offset, const u8 *data,
				  unsigned int len)
{
	struct virtio_balloon *b = to_balloon(vdev);
	u8 actual[4];

	if (offset < BALLOON_ACTUAL || offset > BALLOON_CONFIG_SIZE ||
	    len > BALLOON_CONFIG_SIZE - offset) {
		pr_warn_once(&b->warned_config, "virtio-balloon: config write of %u bytes at %u: "
			     "only actual (bytes 4-7) is the driver's: ignored", len, offset);
		return;
	}
	put_le32(actual, b->actual);
	memcpy(actual + (offset - BALLOON_ACTUAL), data, len);
	b->actual = get_le32(actual);
}

/* --- the queues --- */

static bool bit_test(const u64 *map, u64 i)
{
	return map[i / 64] >> (i % 64) & 1;
}

static void bit_set(u64 *map, u64 i, bool on)
{
	if (on)
		map[i / 64] |= 1ULL << (i % 64);
	else
		map[i / 64] &= ~(1ULL << (i % 64));
}

/* Host pages to give back, as 4K page numbers [first, end): one madvise for a contiguous run. */
struct balloon_run {
	u64 first, end;
};

static void balloon__release(struct virtio_balloon *b, const struct balloon_run *run)
{
	u8 *start = b->vdev.kvm->ram + run->first * BALLOON_PAGE_SIZE;

	if (run->first != run->end &&
	    madvise(start, (run->end - run->first) * BALLOON_PAGE_SIZE, MADV_DONTNEED))
		pr_warn_once(&b->warned_madvise, "virtio-balloon: madvise: %s: pages stay allocated",
			     strerror(errno));
}

/* The host page around 4K page i, if every 4K page of it is in the balloon now. */
static void balloon__maybe_release(struct virtio_balloon *b, u64 i, struct balloon_run *run)
{
	u64 first = i - i % b->host_group;

	if (first + b->host_group > b->nr_pages)
		return;
	for (u64 p = first; p < first + b->host_group; p++) {
		if (!bit_test(b->held, p))
			return;
	}
	if (first != run->end) {
		balloon__release(b, run);
		run->first = first;
	}
	run->end = first + b->host_group;
}

static void balloon__page(struct virtio_balloon *b, u32 pfn, bool inflate, struct balloon_run *run)
{
	u64 gpa = (u64)pfn << VIRTIO_BALLOON_PFN_SHIFT, i;

	if (!kvm__gpa_to_host(b->vdev.kvm, gpa, BALLOON_PAGE_SIZE)) {
		pr_warn_once(&b->warned_pfn, "virtio-balloon: %s: PFN 0x%" PRIx32 " (0x%" PRIx64 ") "
			     "is not in guest RAM: skipped", inflate ? "inflate" : "deflate", pfn, gpa);
		return;
	}
	i = (gpa - LKVM_RAM_BASE) / BALLOON_PAGE_SIZE;
	if (bit_test(b->held, i) == inflate)
		return;		/* already in (or out of) the balloon */
	bit_set(b->held, i, inflate);
	if (!inflate) {
		b->nr_held--;
		return;
	}
	b->nr_held++;
	if (b->host_group)
		balloon__maybe_release(b, i, run);
}

/* One buffer of little-endian u32 PFNs; a trailing partial PFN is ignored. */
static void balloon__chain(struct virtio_balloon *b, const struct virtq_chain *c, bool inflate)
{
	size_t whole = c->out_len & ~(size_t)3;
	struct balloon_run run = { 0, 0 };
	u8 raw[BALLOON_BATCH * 4];

	if (whole != c->out_len)
		pr_warn_once(&b->warned_len, "virtio-balloon: %s: a buffer of %zu bytes is no whole "
			     "number of PFNs: its last %zu bytes ignored",
			     inflate ? "inflate" : "deflate", c->out_len, c->out_len - whole);
	pthread_mutex_lock(&b->lock);
	for (size_t off = 0; off < whole; off += sizeof(raw)) {
		size_t n = virtq_chain__from_guest(c, off, raw, whole - off < sizeof(raw) ?
						   whole - off : sizeof(raw));

		for (size_t k = 0; k + 4 <= n; k += 4)
			balloon__page(b, get_le32(raw + k), inflate, &run);
	}
	/* Still under the lock: a page deflated meanwhile must not be released after all. */
	balloon__release(b, &run);
	pthread_mutex_unlock(&b->lock);
}

/* A statistics buffer: tagged values; unknown tags and a trailing partial entry are ignored. */
static void balloon__read_stats(struct virtio_balloon *b, const struct virtq_chain *c)
{
	struct balloon_stats *st = &b->stats;
	u8 raw[STATS_MAX * STAT_SIZE];
	size_t n = virtq_chain__from_guest(c, 0, raw, sizeof(raw));

	if (c->out_len % STAT_SIZE || c->out_len > sizeof(raw))
		pr_warn_once(&b->warned_stats, "virtio-balloon: stats: a buffer of %zu bytes is not 1 "
			     "to %u entries of %u bytes: the rest ignored", c->out_len, STATS_MAX,
			     STAT_SIZE);
	for (size_t off = 0; off + STAT_SIZE <= n; off += STAT_SIZE) {
		u16 tag = get_le16(raw + off);

		if (tag < NR_STATS) {
			st->val[tag] = get_le64(raw + off + 2);
			st->seen |= 1U << tag;
		}
	}
	st->when_ns = clock__now_ns();
}

/*
 * The guest's statistics buffer stays with lkvm until `lkvm balloon` gives it back. A driver that
 * sends another meanwhile gets the older one back at once.
 */
static void balloon__stats_notify(struct virtio_balloon *b, struct virtq *vq)
{
	struct virtq_chain *c = &b->chains[BALLOON_STATSQ];
	struct balloon_stats *st = &b->stats;

	pthread_mutex_lock(&vq->lock);
	while (virtq__pop(vq, c) > 0) {
		if (st->held)
			virtq__push(vq, st->head, 0);
		balloon__read_stats(b, c);
		st->held = true;
		st->head = c->head;
	}
	virtq__signal(vq);
	pthread_mutex_unlock(&vq->lock);
}

/* Short work (a batch is 256 pages, one madvise per run): done on the notifying vCPU. */
static void balloon__notify(struct virtio_dev *vdev, struct virtq *vq)
{
	struct virtio_balloon *b = to_balloon(vdev);
	struct virtq_chain *c;

	if (vq->index >= BALLOON_NR_QUEUES)
		return;
	if (vq->index == BALLOON_STATSQ) {
		balloon__stats_notify(b, vq);
		return;
	}
	c = &b->chains[vq->index];
	pthread_mutex_lock(&vq->lock);
	while (virtq__pop(vq, c) > 0) {
		balloon__chain(b, c, vq->index == BALLOON_INFLATEQ);
		virtq__push(vq, c->head, 0);
	}
	virtq__signal(vq);
	pthread_mutex_unlock(&vq->lock);
}

/*
 * A driver starts over with all its RAM: nothing is in the balloon. The target and the last
 * statistics stay; the statistics buffer goes with its queue (balloon__queue_stop).
 */
static void balloon__reset(struct virtio_dev *vdev)
{
	struct virtio_balloon *b = to_balloon(vdev);

	pthread_mutex_lock(&b->lock);
	memset(b->held, 0, (b->nr_pages + 63) / 64 * sizeof(u64));
	b->nr_held = 0;
	pthread_mutex_unlock(&b->lock);
	b->actual = 0;
}

/* The statistics buffer lkvm holds was the stopped ring's: it must not go into the next one. */
static void balloon__queue_stop(struct virtio_dev *vdev, struct virtq *vq)
{
	if (vq->index == BALLOON_STATSQ)
		to_balloon(vdev)->stats.held = false;
}

static const struct virtio_dev_ops balloon_ops = {
	.name = "virtio-balloon",
	.device_id = VIRTIO_ID_BALLOON,
	/* No DEFLATE_ON_OOM (see the top), no free page hinting or reporting. */
	.features = 1ULL << VIRTIO_BALLOON_F_STATS_VQ,
	.config_size = BALLOON_CONFIG_SIZE,
	.config_read = balloon__config_read,
	.config_write = balloon__config_write,
	.notify = balloon__notify,
	.reset = balloon__reset,
	.queue_stop = balloon__queue_stop,
};

/* --- lkvm balloon --- */

static const char *pages_str(u64 pages, char *buf, size_t len)
{
	return pages ? size_str(pages * BALLOON_PAGE_SIZE, buf, len) : "0";
}

/*
 * The new target for an inflate (adds) or deflate (subtracts) of bytes, rounded up to 4K pages:
 * at most RAM - 16M (clamped, with a note), at least 0 (clamped too). A target beyond RAM is an
 * error, in note.
 */
static int balloon__target(u64 ram_size, u64 cur, enum balloon_op op, u64 bytes, u64 *target,
			   char *note, size_t len)
{
	u64 pages = bytes / BALLOON_PAGE_SIZE + (bytes % BALLOON_PAGE_SIZE != 0);
	u64 ram_pages = ram_size / BALLOON_PAGE_SIZE;
	u64 max = ram_size > BALLOON_MIN_GUEST_RAM ?
		  (ram_size - BALLOON_MIN_GUEST_RAM) / BALLOON_PAGE_SIZE : 0;
	char a[32], c[32], r[32];

	*target = cur;
	if (max > UINT32_MAX)
		max = UINT32_MAX;
	if (op == BALLOON_INFLATE) {
		if (cur > ram_pages || pages > ram_pages - cur) {
			snprintf(note, len, "balloon: inflate %s: the target would be beyond the "
				 "guest's %s of RAM (it is %s)", pages_str(pages, a, sizeof(a)),
				 pages_str(ram_pages, r, sizeof(r)), pages_str(cur, c, sizeof(c)));
			return -ERANGE;
		}
		*target = cur + pages;
		if (*target > max) {
			*target = max;
			snprintf(note, len, "balloon: target clamped to %s: the guest keeps at least "
				 "16M\n", pages_str(max, a, sizeof(a)));
		}
	} else if (op == BALLOON_DEFLATE) {
		*target = pages > cur ? 0 : cur - pages;
		if (pages > cur)
			snprintf(note, len, "balloon: target clamped to 0: it was %s\n",
				 pages_str(cur, c, sizeof(c)));
	}
	return 0;
}

/*
 * Appends the guest's last statistics to out (one line), and gives its buffer back so that the
 * next request sees fresh ones.
 */
static void balloon__stats(struct virtio_balloon *b, char *out, size_t len)
{
	struct virtq *vq = &b->vqs[BALLOON_STATSQ];
	struct balloon_stats *st = &b->stats;
	size_t n = strlen(out);

	pthread_mutex_lock(&vq->lock);
	if (st->when_ns && n < len)
		n += (size_t)snprintf(out + n, len - n, "\nguest stats (%" PRIu64 "s old):",
				      (u64)((clock__now_ns() - st->when_ns) / 1000000000ULL));
	for (unsigned int i = 0; i < NR_STATS && n < len; i++) {
		if (!(st->seen & (1U << i)))
			continue;
		n += (size_t)snprintf(out + n, len - n, " %s %" PRIu64 "%s", stat_names[i].name,
				      stat_names[i].bytes ? st->val[i] / 1024 : st->val[i],
				      stat_names[i].bytes ? "K" : "");
	}
	if (st->held) {
		virtq__push(vq, st->head, 0);
		st->held = false;
		virtq__signal(vq);
	}
	pthread_mutex_unlock(&vq->lock);
}

int virtio_balloon__set(struct kvm *kvm, enum balloon_op op, u64 bytes, char *out, size_t len)
{
	char note[160] = "", t[32], a[32], r[32];
	struct virtio_balloon *b;
	struct virtio_dev *vdev;
	u64 target;
	u32 old, actual;
	int err;

	vdev = virtio__find(kvm, &balloon_ops);
	if (!vdev) {
		snprintf(out, len, "balloon: this VM has no balloon (start it with --balloon)");
		return -ENODEV;
	}
	b = to_balloon(vdev);
	pthread_mutex_lock(&vdev->lock);
	old = b->num_pages;
	err = balloon__target(kvm->ram_size, old, op, bytes, &target, note, sizeof(note));
	if (!err)
		b->num_pages = (u32)target;
	actual = b->actual;
	pthread_mutex_unlock(&vdev->lock);
	if (err) {
		snprintf(out, len, "%s", note);
		return err;
	}
	if (target != old)
		virtio_dev__config_changed(vdev);
	snprintf(out, len, "%starget %s (%" PRIu64 " pages), actual %s (%" PRIu32 " pages), "
		 "RAM %s", note, pages_str(target, t, sizeof(t)), target,
		 pages_str(actual, a, sizeof(a)), actual, size_str(kvm->ram_size, r, sizeof(r)));
	balloon__stats(b, out, len);
	return 0;
}

/* --- the device --- */

int virtio_balloon__init(struct kvm *kvm)
{
	struct virtio_balloon *b;
	long host_page = sysconf(_SC_PAGESIZE);
	int err;

	if (!kvm->cfg->balloon)
		return 0;
	b = calloc(1, sizeof(*b));
	if (b) {
		b->nr_pages = kvm->ram_size / BALLOON_PAGE_SIZE;
		b->held = calloc((b->nr_pages + 63) / 64, sizeof(u64));
	}
	if (!b || !b->held) {
		free(b);
		pr_err("virtio-balloon: out of memory");
		return -ENOMEM;
	}
	/* Freeing a host page frees all of it: only once the guest gave all of it. */
	if (host_page >= (long)BALLOON_PAGE_SIZE && IS_ALIGNED((uintptr_t)kvm->ram, host_page))
		b->host_group = (u64)host_page / BALLOON_PAGE_SIZE;
	else
		pr_warn("virtio-balloon: host pages of %ld bytes: inflated pages stay allocated",
			host_page);
	pthread_mutex_init(&b->lock, NULL);
	virtio_dev__init(&b->vdev, kvm, &balloon_ops, b->vqs, BALLOON_NR_QUEUES);
	err = virtio__attach(kvm, &b->vdev);
	if (err) {
		virtio_dev__destroy(&b->vdev);
		pthread_mutex_destroy(&b->lock);
		free(b->held);
		free(b);
	}
	return err;
}

void virtio_balloon__exit(struct kvm *kvm)
{
	struct virtio_dev *vdev = virtio__find(kvm, &balloon_ops);
	struct virtio_balloon *b;

	if (!vdev)
		return;
	b = to_balloon(vdev);
	virtio__detach(vdev);
	virtio_dev__destroy(vdev);
	pthread_mutex_destroy(&b->lock);
	free(b->held);
	free(b);
}
virtio_dev_init(virtio_balloon__init, virtio_balloon__exit)
