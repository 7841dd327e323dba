#include "lkvm/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum log_level log_level = LOG_WARNING;
static _Atomic unsigned int errors_logged;

/* Leaves errno as it was: a caller may still read it after logging. */
static void vlog(enum log_level level, const char *prefix, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + 32];
	int n, saved = errno;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "lkvm: %s", prefix);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line so that lines from several threads never interleave. */
	write_all(STDERR_FILENO, line, (size_t)n);
	errno = saved;
}

#define DEFINE_LOG(name, level, prefix)			\
	void name(const char *fmt, ...)			\
	{						\
		va_list ap;				\
		va_start(ap, fmt);			\
		vlog(level, prefix, fmt, ap);		\
		va_end(ap);				\
	}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	errors_logged++;
	va_start(ap, fmt);
	vlog(LOG_ERROR, "", fmt, ap);
	va_end(ap);
}

unsigned int log__errors(void)
{
	return errors_logged;
}

bool log__first(_Atomic unsigned int *count, unsigned int n)
{
	unsigned int seen = atomic_load(count);

	/* Compare and swap, not an add: a count that stopped at n stays there. */
	while (seen < n) {
		if (atomic_compare_exchange_weak(count, &seen, seen + 1))
			return true;
	}
	return false;
}

void pr_warn_once(_Atomic unsigned int *count, const char *fmt, ...)
{
	va_list ap;

	if (!log__first(count, 1))
		return;
	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

DEFINE_LOG(pr_warn, LOG_WARNING, "warning: ")
DEFINE_LOG(pr_info, LOG_INFO, "")
DEFINE_LOG(pr_debug, LOG_DEBUG, "debug: ")
DEFINE_LOG(pr_trace, LOG_ERROR, "")

const char *const log_level_names[LOG_NR_LEVELS] = { "error", "warning", "info", "debug" };

int parse_size(const char *s, u64 *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 20;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'b': case 'B': shift = 0; end++; break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' && shift)
		end++;
	if (*end == 'B' && shift)
		end++;
	if (*end)
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (u64)v << shift;
	return 0;
}

int parse_u64(const char *s, u64 *out)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s;
	char *end;
	unsigned long long v;

	/* strtoull would take a sign, spaces, or a leading 0 as octal. */
	if (!*digits || strspn(digits, hex ? "0123456789abcdefABCDEF" : "0123456789") != strlen(digits))
		return -EINVAL;
	errno = 0;
	v = strtoull(digits, &end, hex ? 16 : 10);
	if (errno)
		return -ERANGE;
	*out = v;
	return 0;
}

/* One "N" or "N-M" item of a list; returns the end of it or NULL. */
static const char *parse_range(const char *s, unsigned long *lo, unsigned long *hi)
{
	char *end;

	if (*s < '0' || *s > '9')
		return NULL;
	*lo = *hi = strtoul(s, &end, 10);
	if (*end == '-') {
		s = end + 1;
		if (*s < '0' || *s > '9')
			return NULL;
		*hi = strtoul(s, &end, 10);
	}
	return end;
}

int parse_cpu_list(const char *s, unsigned int nr, bool *set, unsigned int *count)
{
	memset(set, 0, nr * sizeof(*set));
	*count = 0;
	for (;;) {
		unsigned long lo, hi;

		s = parse_range(s, &lo, &hi);
		if (!s || (*s && *s != ',') || lo > hi)
			return -EINVAL;
		if (hi >= nr)
			return -ERANGE;
		for (unsigned long i = lo; i <= hi; i++) {
			*count += !set[i];
			set[i] = true;
		}
		if (!*s++)
			return 0;
	}
}

int parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

const char *size_str(u64 bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (u < 3 && bytes && !(bytes & 1023)) {
		bytes >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64 " bytes", bytes);
	else
		snprintf(buf, len, "%" PRIu64 "%c", bytes, units[u]);
	return buf;
}

int read_file(const char *path, u64 max, u8 **bufp, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err;

	if (fd < 0) {
		err = -errno;
		pr_err("%s: %s", path, strerror(-err));
		return err;
	}
	err = read_fd(fd, path, max, bufp, lenp);
	close(fd);
	return err;
}

int read_fd(int fd, const char *path, u64 max, u8 **bufp, size_t *lenp)
{
	struct stat st;
	u8 *buf;
	size_t done = 0;
	int err;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_err("%s: not a regular file", path);
		return -EINVAL;
	}
	if ((u64)st.st_size > max)
		return -EFBIG;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		pr_err("%s: out of memory", path);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done, (off_t)done);

		if (n <= 0) {
			err = n ? -errno : -EIO;
			pr_err("%s: read failed: %s", path, n ? strerror(-err) : "file shrank");
			free(buf);
			return err;
		}
		done += (size_t)n;
	}
	*bufp = buf;
	*lenp = done;
	return 0;
}

u64 clock__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file__create(const char *path, mode_t mode, int flags)
{
	struct stat st;
	int fd, err = 0;

	/* O_NONBLOCK: a FIFO planted at the path must not hold lkvm in open(). */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | flags, mode);
	if (fd < 0)	/* ENXIO: a FIFO nobody reads (or a device with none behind it) */
		return errno == ENXIO ? -EINVAL : -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if (st.st_uid != geteuid())	/* planted: what lkvm writes would be theirs */
		err = -EPERM;
	else if (ftruncate(fd, 0) || fcntl(fd, F_SETFL, (fcntl(fd, F_GETFL) & ~O_NONBLOCK)))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

const char *file__create_strerror(int err)
{
	switch (err) {
	case -ELOOP: return "a symbolic link: refused";
	case -EINVAL: return "not a regular file: refused";
	case -EPERM: return "owned by another user: refused";
	default: return strerror(-err);
	}
}

int random__fill(void *buf, size_t len)
{
	u8 *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
