/* Small helpers shared by every part of lkvm: types, logging, arithmetic. */
#ifndef LKVM_UTIL_H
#define LKVM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((u64)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((u64)(a) - 1)) == 0)

#define SZ_4K  0x1000ULL
#define SZ_64K 0x10000ULL
#define SZ_1M  0x100000ULL
#define SZ_2M  0x200000ULL
#define SZ_1G  0x40000000ULL

enum log_level { LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_NR_LEVELS };

/* --loglevel's names, by level. */
extern const char *const log_level_names[LOG_NR_LEVELS];

/* Messages below this level are dropped; set from --loglevel/--debug. */
extern enum log_level log_level;

#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))

/* The longest message line: room for a whole LKVM_LOG buffer, every byte escaped as \xNN. */
#define LOG_LINE_MAX	(4 * 4096 + 128)

/* Every user-facing error is one line: "lkvm: <what>: <why>". They leave errno unchanged. */
void pr_err(const char *fmt, ...) PRINTF_FMT(1, 2);
void pr_warn(const char *fmt, ...) PRINTF_FMT(1, 2);
void pr_info(const char *fmt, ...) PRINTF_FMT(1, 2);
void pr_debug(const char *fmt, ...) PRINTF_FMT(1, 2);
/* Traces the user asked for with a --debug-* option: printed whatever the log level. */
void pr_trace(const char *fmt, ...) PRINTF_FMT(1, 2);
/* How many errors pr_err has logged: a caller tells whether a failure it saw was reported. */
unsigned int log__errors(void);
/*
 * For a message that a guest (or a loop) can cause without end: true the first n times it is
 * called on *count (zero at first), false ever after. The count stops at n, so it never wraps
 * round to print again. Thread-safe.
 */
bool log__first(_Atomic unsigned int *count, unsigned int n);
/* pr_warn the first time only, on *count: one counter per kind of message (or per device). */
void pr_warn_once(_Atomic unsigned int *count, const char *fmt, ...) PRINTF_FMT(2, 3);

/* Parses "512", "512M", "2G", "1024K"...; no suffix means MiB, as in kvmtool. 0 on success. */
int parse_size(const char *s, u64 *out);
/* Parses a decimal unsigned int in [min, max]. 0 on success. */
int parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out);
/* A 64-bit number, decimal or 0x hex; -EINVAL, or -ERANGE if it does not fit. */
int parse_u64(const char *s, u64 *out);
/*
 * A list of CPU numbers and ranges, as in 0,3,5-7, into set[0..nr) (count: how many are set).
 * -EINVAL if it is not such a list, -ERANGE if a number is nr or more.
 */
int parse_cpu_list(const char *s, unsigned int nr, bool *set, unsigned int *count);
/* Formats a byte count as "512M", "2G" or bytes, for messages. */
const char *size_str(u64 bytes, char *buf, size_t len);

/* Reads a whole file into a malloc'ed buffer; at most max bytes (-EFBIG beyond). Logs errors. */
int read_file(const char *path, u64 max, u8 **buf, size_t *len);
/* The same for a file the caller opened, from its start; path names it in messages. */
int read_fd(int fd, const char *path, u64 max, u8 **buf, size_t *len);
/* CLOCK_MONOTONIC in nanoseconds. */
u64 clock__now_ns(void);

/* write(2) until done or a real error. */
int write_all(int fd, const void *buf, size_t len);
/*
 * An output file lkvm is told to write (logs, drawings, dumps): created with mode, or an
 * existing regular file of lkvm's own user emptied (it keeps its mode); never through a
 * symlink, never a FIFO or device. flags adds open(2) flags (O_APPEND). The fd (O_CLOEXEC,
 * blocking), or -ELOOP for a symlink, -EINVAL for not a regular file, -EPERM for another
 * user's file, another -errno. Logs nothing: file__create_strerror says why, for the error line.
 */
int file__create(const char *path, mode_t mode, int flags);
const char *file__create_strerror(int err);
/* Fills buf from getrandom(2), through signals and short reads: 0, or -errno (not logged). */
int random__fill(void *buf, size_t len);

/*
 * Little-endian fields in byte buffers (wire formats, config spaces), at any alignment. len is
 * 1 to 8: get_le reads that many bytes, put_le writes val's low len bytes.
 */
static inline u64 get_le(const u8 *p, unsigned int len)
{
	u64 val = 0;

	for (unsigned int i = 0; i < len; i++)
		val |= (u64)p[i] << (8 * i);
	return val;
}

static inline void put_le(u8 *p, u64 val, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		p[i] = (u8)(val >> (8 * i));
}

static inline u16 get_le16(const u8 *p) { return (u16)get_le(p, 2); }
static inline u32 get_le32(const u8 *p) { return (u32)get_le(p, 4); }
static inline u64 get_le64(const u8 *p) { return get_le(p, 8); }
static inline void put_le16(u8 *p, u16 val) { put_le(p, val, 2); }
static inline void put_le32(u8 *p, u32 val) { put_le(p, val, 4); }
static inline void put_le64(u8 *p, u64 val) { put_le(p, val, 8); }

#endif
