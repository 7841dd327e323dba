/* --json for the control commands: the servers' text answers as JSON (control-json.h). */
#include "lkvm/control-json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void json__init(struct json_buf *j, char *p, size_t size)
{
	*j = (struct json_buf){ .p = p, .size = size };
	if (size)
		*p = '\0';
}

void json__raw(struct json_buf *j, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (j->err)
		return;
	va_start(ap, fmt);
	r = vsnprintf(j->p + j->n, j->size - j->n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= j->size - j->n)
		j->err = -ENOSPC;
	else
		j->n += (size_t)r;
}

void json__string(struct json_buf *j, const char *s)
{
	json__raw(j, "\"");
	for (const u8 *c = (const u8 *)s; *c && !j->err; c++) {
		if (*c == '"' || *c == '\\')
			json__raw(j, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			json__raw(j, "\\u%04x", *c);
		else
			json__raw(j, "%c", *c);
	}
	json__raw(j, "\"");
}

int ctl_json__vm(struct json_buf *j, const char *info)
{
	char name[72];
	unsigned int pid, cpus, plugged;
	int end = 0;

	if (sscanf(info, "%71s %u %u %u%n", name, &pid, &cpus, &plugged, &end) != 4 || info[end])
		return -EINVAL;
	json__raw(j, "{\"name\":");
	json__string(j, name);
	json__raw(j, ",\"pid\":%u,\"cpus\":%u,\"plugged\":%u}", pid, cpus, plugged);
	return j->err;
}

/* One row of hotplug__list's table. */
static int ctl_json__cpu(struct json_buf *j, const char *row)
{
	unsigned int id, delay;
	u64 mpidr, standbys, standby_us, powerdowns, powerdown_us;
	char state[32], *comma;
	int end = 0;

	if (sscanf(row, "%u %" SCNx64 " %31s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %u%n",
		   &id, &mpidr, state, &standbys, &standby_us, &powerdowns, &powerdown_us, &delay,
		   &end) != 8 || (row[end] && row[end] != '\n'))
		return -EINVAL;
	comma = strchr(state, ',');
	if (comma && strcmp(comma, ",eject"))
		return -EINVAL;
	if (comma)
		*comma = '\0';
	json__raw(j, "{\"id\":%u,\"mpidr\":%" PRIu64 ",\"state\":", id, mpidr);
	json__string(j, state);
	json__raw(j, ",\"eject\":%s,\"standbys\":%" PRIu64 ",\"standby_us\":%" PRIu64
		  ",\"powerdowns\":%" PRIu64 ",\"powerdown_us\":%" PRIu64 ",\"delay_ms\":%u}",
		  comma ? "true" : "false", standbys, standby_us, powerdowns, powerdown_us, delay);
	return j->err;
}

int ctl_json__cpus(struct json_buf *j, const char *table)
{
	const char *row = strchr(table, '\n');	/* past the header */
	int err = 0;

	if (strncmp(table, "ID ", 3) || !row)
		return -EINVAL;
	json__raw(j, "[");
	for (row++; *row && !err; row = strchr(row, '\n') + 1) {
		char line[160];
		size_t len = strcspn(row, "\n");

		if (len >= sizeof(line) || !row[len])
			return -EINVAL;
		snprintf(line, sizeof(line), "%.*s", (int)len, row);
		if (j->n > 1)
			json__raw(j, ",");
		err = ctl_json__cpu(j, line);
	}
	json__raw(j, "]");
	return err ? err : j->err;
}

/* The stats line's " NAME VALUE[K]" pairs: "K" values are KiB, given here in bytes. */
static int ctl_json__balloon_stats(struct json_buf *j, const char *s)
{
	char name[24], unit[2];
	u64 age, v;
	int used = 0, n;

	if (sscanf(s, "guest stats (%" SCNu64 "s old):%n", &age, &used) != 1 || !used)
		return -EINVAL;
	json__raw(j, ",\"stats_age_s\":%" PRIu64 ",\"stats\":{", age);
	for (s += used, n = 0; *s; n++) {
		int k = 0, got = sscanf(s, " %23[a-z-] %" SCNu64 "%n%1[K]%n", name, &v, &used, unit, &k);

		if (got < 2)
			return -EINVAL;
		s += got == 3 ? k : used;
		json__raw(j, "%s", n ? "," : "");
		json__string(j, name);
		json__raw(j, ":%" PRIu64, got == 3 ? v * 1024 : v);
	}
	json__raw(j, "}");
	return 0;
}

int ctl_json__balloon(struct json_buf *j, const char *text)
{
	u64 target, ram;
	unsigned int actual;
	char ram_s[24];
	int end = 0, err;

	if (sscanf(text, "target %*s (%" SCNu64 " pages), actual %*s (%u pages), RAM %23s%n",
		   &target, &actual, ram_s, &end) != 3 || parse_size(ram_s, &ram) ||
	    (text[end] && text[end] != '\n'))
		return -EINVAL;
	json__raw(j, "{\"target_pages\":%" PRIu64 ",\"target_bytes\":%" PRIu64 ",\"actual_pages\":%u,"
		  "\"actual_bytes\":%" PRIu64 ",\"page_size\":4096,\"ram_bytes\":%" PRIu64, target,
		  target * 4096, actual, (u64)actual * 4096, ram);
	err = text[end] ? ctl_json__balloon_stats(j, text + end + 1) : 0;
	json__raw(j, "}");
	return err ? err : j->err;
}

/* "registered enabled running pending unregister-pending": the words after "registered". */
static const char *const sdei_words[] = { "enabled", "running", "pending", "unregister-pending" };

/* One registration line of an event: "  [vcpu N: ]registered WORDS entry=0x.. arg=0x..[ ...]". */
static int ctl_json__sdei_reg(struct json_buf *j, const char *line, bool shared)
{
	bool has[ARRAY_SIZE(sdei_words)] = { false };
	unsigned int vcpu = 0;
	u64 entry, arg, affinity;
	int used = 0, running_on = -1;
	char word[24];

	if (!shared && (sscanf(line, "  vcpu %u: %n", &vcpu, &used) != 1 || !used))
		return -EINVAL;
	line += shared ? 2 : (size_t)used;
	if (strncmp(line, "registered", 10))
		return -EINVAL;
	for (line += 10; sscanf(line, " %23[a-z-]%n", word, &used) == 1; line += used) {
		size_t w = 0;

		while (w < ARRAY_SIZE(sdei_words) && strcmp(word, sdei_words[w]))
			w++;
		if (w == ARRAY_SIZE(sdei_words))
			break;
		has[w] = true;
	}
	if (sscanf(line, " entry=0x%" SCNx64 " arg=0x%" SCNx64 "%n", &entry, &arg, &used) != 2)
		return -EINVAL;
	line += used;
	json__raw(j, "{");
	if (!shared)
		json__raw(j, "\"vcpu\":%u,", vcpu);
	for (size_t w = 0; w < ARRAY_SIZE(sdei_words); w++)
		json__raw(j, "\"%s\":%s,", w == 3 ? "unregister_pending" : sdei_words[w],
			  has[w] ? "true" : "false");
	json__raw(j, "\"entry\":%" PRIu64 ",\"arg\":%" PRIu64, entry, arg);
	if (shared && sscanf(line, " route=pe:0x%" SCNx64 "%n", &affinity, &used) == 1) {
		json__raw(j, ",\"route\":\"pe\",\"route_affinity\":%" PRIu64, affinity);
		line += used;
	} else if (shared && !strncmp(line, " route=any", 10)) {
		json__raw(j, ",\"route\":\"any\"");
		line += 10;
	} else if (shared) {
		return -EINVAL;
	}
	if (sscanf(line, " running-on=%d%n", &running_on, &used) == 1)
		line += used;
	if (running_on >= 0)
		json__raw(j, ",\"running_on\":%d", running_on);
	json__raw(j, "}");
	return *line ? -EINVAL : 0;
}

/* "vcpu N: STATE, masked" lines, then "event N NAME: shared|private critical|normal" ones. */
static int ctl_json__sdei_line(struct json_buf *j, const char *line, int *section, bool *shared)
{
	char name[32], state[16], mask[16], kind[16], prio[16];
	unsigned int n;
	int end = 0;

	if (*section < 2 && sscanf(line, "vcpu %u: %15[a-z-], %15s%n", &n, state, mask, &end) == 3 &&
	    !line[end] && (!strcmp(mask, "masked") || !strcmp(mask, "unmasked"))) {
		json__raw(j, "%s{\"vcpu\":%u,\"state\":", *section ? "," : "{\"vcpus\":[", n);
		json__string(j, state);
		json__raw(j, ",\"masked\":%s}", mask[0] == 'm' ? "true" : "false");
		*section = 1;
		return 0;
	}
	if (sscanf(line, "event %u %31[a-z0-9_-]: %15s %15s%n", &n, name, kind, prio, &end) == 4 &&
	    !line[end] && (!strcmp(kind, "shared") || !strcmp(kind, "private")) &&
	    (!strcmp(prio, "critical") || !strcmp(prio, "normal"))) {
		*shared = !strcmp(kind, "shared");
		json__raw(j, "%s{\"event\":%u,\"name\":", *section >= 2 ? "]}," :
			  *section ? "],\"events\":[" : "{\"vcpus\":[],\"events\":[", n);
		json__string(j, name);
		json__raw(j, ",\"shared\":%s,\"critical\":%s,\"registrations\":[",
			  *shared ? "true" : "false", !strcmp(prio, "critical") ? "true" : "false");
		*section = 2;
		return 0;
	}
	if (*section < 2)
		return -EINVAL;
	if (*section == 3)
		json__raw(j, ",");
	else
		*section = 3;
	return ctl_json__sdei_reg(j, line, *shared);
}

int ctl_json__sdei(struct json_buf *j, const char *text)
{
	int section = 0, err = 0;	/* 0 nothing, 1 in vcpus, 2 an event, 3 its registrations */
	bool shared = false;

	while (*text && !err) {
		char line[256];
		size_t len = strcspn(text, "\n");

		if (len >= sizeof(line) || !text[len])
			return -EINVAL;
		snprintf(line, sizeof(line), "%.*s", (int)len, text);
		err = ctl_json__sdei_line(j, line, &section, &shared);
		text += len + 1;
	}
	json__raw(j, section >= 2 ? "]}]}" : section == 1 ?
		  "],\"events\":[]}" : "{\"vcpus\":[],\"events\":[]}");
	return err ? err : j->err;
}
